import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Three places where the OpenAPI transport's HTTP differs from what clients expect, mended between it and the
/// operations:
/// - `Accept` is not passed on: every answer is JSON, and the generated code would check `Accept` only after
///   the operation ran, answering an error for work already committed.
/// - A request without a body (a length of zero) reaches its operation with none: the transport always
///   passes one, and an operation whose body is optional would otherwise try to decode nothing as JSON.
/// - An `ETag` goes out as it was made: the runtime writes header values percent-encoded (OpenAPI's `simple`
///   style), which turns the quotes of an entity tag into `%22`, and clients compare tags byte for byte.
package struct TransportFixMiddleware: ServerMiddleware {
    package init() {}

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.accept] = nil
        var (response, responseBody) = try await next(request, body?.length == .known(0) ? nil : body, metadata)
        if let tag = response.headerFields[.eTag], let decoded = tag.removingPercentEncoding {
            response.headerFields[.eTag] = decoded
        }
        return (response, responseBody)
    }
}
