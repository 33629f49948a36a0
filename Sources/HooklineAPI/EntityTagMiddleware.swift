import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Sends an `ETag` as it was made: the runtime writes header values percent-encoded (OpenAPI's `simple`
/// style), which turns the quotes of an entity tag into `%22`, and clients compare tags byte for byte.
package struct EntityTagMiddleware: ServerMiddleware {
    package init() {}

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        if let tag = response.headerFields[.eTag], let decoded = tag.removingPercentEncoding {
            response.headerFields[.eTag] = decoded
        }
        return (response, responseBody)
    }
}
