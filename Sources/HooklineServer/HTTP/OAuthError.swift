import HTTPTypes
import Hookline
import Hummingbird

/// An error of the token and revocation endpoints (RFC 6749 §5.2, RFC 7009 §2.2.1), answered as JSON with
/// `Cache-Control: no-store` and `Pragma: no-cache`, like every answer of those endpoints.
enum OAuthError: HTTPResponseError {
    case invalidRequest(String)
    /// Client authentication failed: 401 with `WWW-Authenticate: Basic`, which RFC 6749 §5.2 asks for when the
    /// client tried HTTP Basic, and RFC 9110 §15.5.2 of every 401 (credentials in the body included).
    case invalidClient
    case unsupportedGrantType
    /// A request to the authorization endpoint, which exists only because some clients' metadata models
    /// require one: no response type is supported (RFC 6749 §4.1.2.1).
    case unsupportedResponseType
    /// The client asked for a scope other than its own.
    case invalidScope(OAuthScope)
    /// The brake on repeated failed authentications: 429 with `Retry-After`.
    case tooManyAttempts(retryAfter: Int)
    /// The database cannot be reached: nothing is known about the credentials; 503 with `Retry-After: 1`.
    case unavailable

    var status: HTTPResponse.Status { answer.status }

    func response(from request: Request, context: some RequestContext) -> Response { answer.response }

    /// The status, body and headers of this error.
    var answer: APIError {
        var headers = HTTPFields.noStore
        switch self {
        case .invalidRequest(let description):
            return APIError(.badRequest, "invalid_request", description, headers: headers)
        case .invalidClient:
            headers[.wwwAuthenticate] = "Basic realm=\"hookline\""
            return APIError(.unauthorized, "invalid_client", "client authentication failed", headers: headers)
        case .unsupportedGrantType:
            return APIError(
                .badRequest, "unsupported_grant_type", "only client_credentials is supported", headers: headers)
        case .unsupportedResponseType:
            return APIError(
                .badRequest, "unsupported_response_type",
                "Hookline issues tokens only for the client_credentials grant, at /oauth/token", headers: headers)
        case .invalidScope(let scope):
            return APIError(
                .badRequest, "invalid_scope", "this client may only request the scope \(scope.rawValue)",
                headers: headers)
        case .tooManyAttempts(let seconds):
            headers[.retryAfter] = String(seconds)
            return APIError(
                .tooManyRequests, "temporarily_unavailable", "too many failed client authentications; retry later",
                headers: headers)
        case .unavailable:
            headers[.retryAfter] = "1"
            return APIError(
                .serviceUnavailable, "temporarily_unavailable",
                "the authorization server cannot check credentials now; retry", headers: headers)
        }
    }
}
