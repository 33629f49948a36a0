import HTTPTypes
import OpenAPIRuntime

/// Hands an operation no body when the request came with none (a length of zero): the transport always
/// passes one, and an operation whose body is optional would otherwise try to decode nothing as JSON.
package struct EmptyBodyMiddleware: ServerMiddleware {
    package init() {}

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        try await next(request, body?.length == .known(0) ? nil : body, metadata)
    }
}
