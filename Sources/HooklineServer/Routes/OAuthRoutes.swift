import Foundation
import Hookline
import Hummingbird
import Logging

/// `POST /oauth/token` (RFC 6749 §4.4, client credentials) and `POST /oauth/revoke` (RFC 7009).
struct OAuthRoutes: Sendable {
    let clients: OAuthClientStore
    let limiter: FailedAuthenticationLimiter
    /// Proxies whose `X-Forwarded-For` is believed: the brake counts the client behind them.
    let trustedProxies: [CIDR]

    /// Form bodies larger than this are refused: a token request is a few hundred bytes.
    static let maxFormBytes = 16 * 1024

    func register(on router: Router<HooklineRequestContext>) {
        router.post("/oauth/token") { request, context in try await token(request, context) }
        router.post("/oauth/revoke") { request, context in try await revoke(request, context) }
    }

    // MARK: Token

    func token(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let form: FormBody
        switch await readForm(request) {
        case .success(let parsed): form = parsed
        case .failure(let failure): return failure.response
        }
        guard let grantType = form["grant_type"] else {
            return Self.error(.invalidRequest("grant_type is missing"))
        }
        guard grantType == "client_credentials" else {
            return Self.error(.unsupportedGrantType)
        }
        let client: OAuthClient
        switch await authenticateClient(request, form, context) {
        case .success(let authenticated): client = authenticated
        case .failure(let failure): return failure.response
        }
        if let requested = form["scope"] {
            let scopes = requested.split(separator: " ", omittingEmptySubsequences: true)
            guard scopes.allSatisfy({ $0 == client.scope.rawValue }) else {
                return Self.error(.invalidScope(client.scope))
            }
        }
        let issued: IssuedToken
        do {
            issued = try await clients.issueToken(to: client)
        } catch HooklineError.revoked {
            // Revoked between authentication and issue: the revocation wins.
            return Self.error(.invalidClient(challenge: false))
        } catch {
            context.logger.error("token not issued: database unavailable", metadata: ["error": "\(error)"])
            return Self.error(.unavailable)
        }
        return JSONResponse.make(TokenResponse(issued), status: .ok, headers: .noStore)
    }

    /// The success body (RFC 6749 §5.1), with the `clientId` member of the product we model.
    struct TokenResponse: Encodable {
        var tokenType = "bearer"
        var accessToken: String
        var expiresIn: Int
        var clientID: String
        var scope: String

        init(_ issued: IssuedToken) {
            accessToken = issued.accessToken
            expiresIn = issued.expiresIn
            clientID = issued.clientID
            scope = issued.scope.rawValue
        }

        enum CodingKeys: String, CodingKey {
            case tokenType = "token_type"
            case accessToken = "access_token"
            case expiresIn = "expires_in"
            case clientID = "clientId"
            case scope
        }
    }

    // MARK: Revoke

    func revoke(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let form: FormBody
        switch await readForm(request) {
        case .success(let parsed): form = parsed
        case .failure(let failure): return failure.response
        }
        guard let token = form["token"] else { return Self.error(.invalidRequest("token is missing")) }
        let client: OAuthClient
        switch await authenticateClient(request, form, context) {
        case .success(let authenticated): client = authenticated
        case .failure(let failure): return failure.response
        }
        // RFC 7009 §2.2: 200 whether or not the token existed or was this client's; the hint is only a hint.
        do {
            try await clients.revokeToken(token, of: client)
        } catch {
            context.logger.error("token not revoked: database unavailable", metadata: ["error": "\(error)"])
            return Self.error(.unavailable)
        }
        return Response(status: .ok, headers: .noStore)
    }

    // MARK: Shared steps

    /// An OAuth error response (RFC 6749 §5.2, RFC 7009 §2.2.1).
    enum Failure: Error {
        case invalidRequest(String)
        case invalidClient(challenge: Bool)
        case unsupportedGrantType
        case invalidScope(OAuthScope)
        case tooManyAttempts(retryAfter: Int)
        /// The database cannot be reached: nothing is known about the credentials.
        case unavailable

        var response: Response { OAuthRoutes.error(self) }
    }

    static func error(_ failure: Failure) -> Response {
        var headers = HTTPFields.noStore
        switch failure {
        case .invalidRequest(let description):
            return JSONResponse.error("invalid_request", description, status: .badRequest, headers: headers)
        case .invalidClient(let challenge):
            if challenge { headers[.wwwAuthenticate] = "Basic realm=\"hookline\"" }
            return JSONResponse.error(
                "invalid_client", "client authentication failed", status: .unauthorized, headers: headers)
        case .unsupportedGrantType:
            return JSONResponse.error(
                "unsupported_grant_type", "only client_credentials is supported", status: .badRequest,
                headers: headers)
        case .invalidScope(let scope):
            return JSONResponse.error(
                "invalid_scope", "this client may only request the scope \(scope.rawValue)", status: .badRequest,
                headers: headers)
        case .tooManyAttempts(let seconds):
            headers[.retryAfter] = String(seconds)
            return JSONResponse.error(
                "temporarily_unavailable", "too many failed client authentications; retry later",
                status: .tooManyRequests, headers: headers)
        case .unavailable:
            headers[.retryAfter] = "1"
            return JSONResponse.error(
                "temporarily_unavailable", "the authorization server cannot check credentials now; retry",
                status: .serviceUnavailable, headers: headers)
        }
    }

    /// Reads a form-encoded body, strictly.
    func readForm(_ request: Request) async -> Result<FormBody, Failure> {
        let contentType = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard contentType == "application/x-www-form-urlencoded" else {
            return .failure(.invalidRequest("the body must be application/x-www-form-urlencoded"))
        }
        if let query = request.uri.query, query.contains("client_secret=") || query.contains("token=") {
            return .failure(.invalidRequest("credentials must be sent in the body, never in the URL"))
        }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: Self.maxFormBytes) else {
            return .failure(.invalidRequest("the body is too large"))
        }
        do {
            return .success(try FormBody(bytes: Array(buffer: buffer)))
        } catch .repeated(let name) {
            return .failure(.invalidRequest("\(name) is repeated"))
        } catch {
            return .failure(.invalidRequest("the body is not valid form encoding"))
        }
    }

    /// Authenticates the client by HTTP Basic (`client_secret_basic`) or by the form body
    /// (`client_secret_post`), never both (RFC 6749 §2.3.1), with the brake on repeated failures.
    func authenticateClient(
        _ request: Request, _ form: FormBody, _ context: HooklineRequestContext
    ) async -> Result<OAuthClient, Failure> {
        let basic = request.headers[.authorization].flatMap(BasicCredentials.init(header:))
        let usedBasic = request.headers[.authorization].map(BasicCredentials.isBasic) ?? false
        let inBody = form["client_id"] != nil || form["client_secret"] != nil
        if usedBasic && inBody {
            return .failure(.invalidRequest("use one client authentication method: Basic or the body, not both"))
        }
        let clientID: String
        let secret: String
        if usedBasic {
            guard let basic else { return .failure(.invalidClient(challenge: true)) }
            (clientID, secret) = (basic.username, basic.password)
        } else if let id = form["client_id"], let bodySecret = form["client_secret"] {
            (clientID, secret) = (id, bodySecret)
        } else {
            // No credentials, or a client_id without its secret (we have no public clients).
            return .failure(.invalidClient(challenge: !inBody))
        }
        // An ID that cannot be ours fails without a look-up, and is neither remembered nor logged: a caller
        // may put a secret in the wrong field, and a stranger must not fill the brake with IDs of any length.
        guard Secrets.isClientIDShaped(clientID) else {
            context.logger.notice("client authentication failed", metadata: ["client_id": "(unrecognised)"])
            return .failure(.invalidClient(challenge: usedBasic))
        }
        // The brake counts the same address as the allow-lists: the client behind a trusted proxy.
        let source = context.clientAddress(of: request, trustedProxies: trustedProxies) ?? "unknown"
        if let wait = limiter.retryAfter(clientID: clientID, source: source) {
            return .failure(.tooManyAttempts(retryAfter: wait))
        }
        do {
            guard let client = try await clients.authenticate(clientID: clientID, secret: secret) else {
                limiter.recordFailure(clientID: clientID, source: source)
                context.logger.notice("client authentication failed", metadata: ["client_id": "\(clientID)"])
                return .failure(.invalidClient(challenge: usedBasic))
            }
            limiter.recordSuccess(clientID: clientID, source: source)
            return .success(client)
        } catch {
            // An outage is not a wrong secret: 503, so that the client retries rather than doubting its
            // credentials.
            context.logger.error("client authentication could not reach the database", metadata: ["error": "\(error)"])
            return .failure(.unavailable)
        }
    }
}
