import Foundation
import HTTPTypes
import Hummingbird

/// An error that knows its HTTP answer: `{"error": code, "error_description": description}` as JSON, with its
/// status and any extra headers (`Retry-After`, `WWW-Authenticate`, `Cache-Control`…).
///
/// A route or middleware `throw`s it; the router turns it into the response, and ``RequestLogMiddleware`` logs
/// and counts its status like that of any response. The other error types of the server (``OAuthError``,
/// ``BearerChallenge``) answer through this one, so every refusal the routes write has this shape.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    /// The machine-readable `error` member.
    let errorCode: String
    /// The `error_description` member, a short public reason; omitted when `nil`.
    let errorDescription: String?
    /// Headers beside `Content-Type`.
    let headers: HTTPFields
    /// The JSON body, encoded once: the refusals answered most (an unknown webhook, a full buffer) are
    /// constants.
    let body: [UInt8]

    init(
        _ status: HTTPResponse.Status, _ errorCode: String, _ errorDescription: String? = nil, headers: HTTPFields = [:]
    ) {
        self.status = status
        self.errorCode = errorCode
        self.errorDescription = errorDescription
        self.headers = headers
        var members = ["error": errorCode]
        if let errorDescription { members["error_description"] = errorDescription }
        self.body = Array(JSONResponse.encode(members))
    }

    func response(from request: Request, context: some RequestContext) -> Response { response }

    /// The answer, which depends on nothing in the request.
    var response: Response { JSONResponse.make(encoded: body, status: status, headers: headers) }
}

extension APIError {
    /// 413: the body is, or says it is, larger than the route takes.
    static let tooLarge = APIError(.contentTooLarge, "too_large", "the body is too large")
}
