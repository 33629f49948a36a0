import HTTPTypes
import Hookline
import Hummingbird

/// The 401 answer of a bearer-protected route (RFC 6750 §3): `WWW-Authenticate: Bearer realm="hookline"`, with
/// `error` and `error_description` when a token came and was refused, and the same two in the JSON body.
struct BearerChallenge: HTTPResponseError {
    let rejection: TokenVerifier.Rejection
    /// Where the protected resource's metadata is (RFC 9728 §5.1), for MCP clients to discover the token
    /// endpoint.
    var resourceMetadata: String? = nil
    /// The scope a token needs here (`scope`, RFC 6750 §3), which MCP clients ask the token endpoint for.
    var scope: OAuthScope? = nil

    var status: HTTPResponse.Status { .unauthorized }

    /// The `WWW-Authenticate` value.
    var challenge: String {
        var challenge = "Bearer realm=\"hookline\""
        if let resourceMetadata { challenge += ", resource_metadata=\"\(resourceMetadata)\"" }
        if let scope { challenge += ", scope=\"\(scope.rawValue)\"" }
        if let code = rejection.errorCode { challenge += ", error=\"\(code)\"" }
        if let description = rejection.errorDescription { challenge += ", error_description=\"\(description)\"" }
        return challenge
    }

    func response(from request: Request, context: some RequestContext) -> Response { apiError.response }

    /// The answer, as every refusal has it.
    var apiError: APIError {
        APIError(
            status, rejection.errorCode ?? "unauthorized", rejection.errorDescription ?? "a bearer token is required",
            headers: [.wwwAuthenticate: challenge])
    }

    /// Returns for a valid verdict; throws the challenge for a rejected one.
    static func check(_ verdict: TokenVerifier.Verdict, resourceMetadata: String? = nil, scope: OAuthScope? = nil)
        throws(BearerChallenge)
    {
        if case .rejected(let rejection) = verdict {
            throw BearerChallenge(rejection: rejection, resourceMetadata: resourceMetadata, scope: scope)
        }
    }
}
