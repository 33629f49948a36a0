import Foundation
import HTTPTypes
import Hookline
import HooklineAPIGenerated
import OpenAPIRuntime

/// Checks each JSON request body against its operation's schema in the document before the operation
/// decodes it, and refuses one that fails with 422 listing every problem with its JSON Pointer: limits the
/// generated types do not check (`maxLength`, `maxItems`, bounds), `null` where a member may not be null, and
/// all the missing and mistyped members at once rather than the first.
///
/// The operation decodes the same bytes with Foundation's decoder, which reads some text differently: it takes
/// the first of a repeated member where this parser takes the last, and it accepts a byte order mark, UTF-16
/// and numbers out of range. So what it may decode is only what was validated: a body that this parser does not
/// read is 400, and one that gives a member twice is 422, before the operation sees either.
package struct RequestValidationMiddleware: ServerMiddleware {
    /// The request schemas of `api/openapi.yaml`, by operationId, parsed once.
    let schemas: [String: JSONSchema]

    package init() {
        let document = (try? JSON(parsing: Array(OpenAPIDocument.requestSchemas.utf8)))?.object ?? [:]
        schemas = document.compactMapValues { try? JSONSchema($0) }
        assert(schemas.count == document.count, "every request schema of the document parses")
    }

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let schema = schemas[operationID], let body else { return try await next(request, body, metadata) }
        // The body is already read whole and bounded (`APIBodyLimitMiddleware`); it is handed on as bytes.
        let bytes = try await [UInt8](collecting: body, upTo: .max)
        let parsed: (value: JSON, duplicateKeys: Bool)
        do {
            parsed = try JSON.parsingNotingDuplicateKeys(bytes)
        } catch {
            throw Problem(.badRequest, "the body is not JSON: \(error)")
        }
        if parsed.duplicateKeys {
            throw Problem.invalid("", "the body gives a member twice: which one counts is not agreed, so neither does")
        }
        let issues = schema.validate(parsed.value)
        if !issues.isEmpty {
            throw Problem(
                .unprocessableContent, "the body does not match the operation's schema",
                errors: issues.map { .init(pointer: $0.location.description, detail: $0.message) })
        }
        return try await next(request, HTTPBody(bytes), metadata)
    }
}
