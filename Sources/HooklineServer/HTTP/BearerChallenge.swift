import Hookline
import Hummingbird

/// The 401 answer of a bearer-protected route (RFC 6750 §3).
enum BearerChallenge {
    static func response(for rejection: TokenVerifier.Rejection) -> Response {
        var challenge = "Bearer realm=\"hookline\""
        if let code = rejection.errorCode { challenge += ", error=\"\(code)\"" }
        if let description = rejection.errorDescription { challenge += ", error_description=\"\(description)\"" }
        return JSONResponse.error(
            rejection.errorCode ?? "unauthorized", rejection.errorDescription ?? "a bearer token is required",
            status: .unauthorized, headers: [.wwwAuthenticate: challenge])
    }
}
