import Foundation
import Hookline
import Hummingbird
import Logging

/// `POST /oauth/token` (RFC 6749 §4.4, client credentials), `POST /oauth/revoke` (RFC 7009), and a
/// `GET /oauth/authorize` that refuses every request.
///
/// Each refusal is an ``OAuthError``, thrown by the step that finds it. Client authentication is a step of
/// each route rather than a middleware: `client_secret_post` carries the credentials in the form body, which
/// only the route reads, and the token request is checked for `grant_type` before the client is.
struct OAuthRoutes: Sendable {
    let clients: OAuthClientStore
    /// Told of each revocation, so that a revoked token stops working on this instance at once.
    let verifier: TokenVerifier
    let limiter: FailedAuthenticationLimiter
    /// Proxies whose `X-Forwarded-For` is believed: the brake counts the client behind them.
    let trustedProxies: [CIDR]
    /// Form bodies larger than this are refused (``ServerSettings/maxTokenFormBytes``).
    let maxFormBytes: Int

    /// `maxFormBytes` unless told otherwise (`hookline serve --max-token-form-bytes`): a token request is a few
    /// hundred bytes.
    static let defaultMaxFormBytes = 16 * 1024

    func register(on router: Router<HooklineRequestContext>) {
        router.post("/oauth/token") { request, context in try await token(request, context) }
        router.post("/oauth/revoke") { request, context in try await revoke(request, context) }
        // Named in the authorization-server metadata for clients whose metadata model requires the field (the
        // official Python MCP SDK's does): every request here is refused, since no response type is supported.
        router.get("/oauth/authorize") { _, _ -> Response in throw OAuthError.unsupportedResponseType }
    }

    // MARK: Token

    func token(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let form = try await readForm(request)
        guard let grantType = form["grant_type"] else { throw OAuthError.invalidRequest("grant_type is missing") }
        guard grantType == "client_credentials" else { throw OAuthError.unsupportedGrantType }
        let client = try await authenticateClient(request, form, context)
        if let requested = form["scope"] {
            let scopes = requested.split(separator: " ", omittingEmptySubsequences: true)
            guard scopes.allSatisfy({ $0 == client.scope.rawValue }) else {
                throw OAuthError.invalidScope(client.scope)
            }
        }
        let issued: IssuedToken
        do {
            issued = try await clients.issueToken(to: client)
        } catch HooklineError.revoked {
            // Revoked between authentication and issue: the revocation wins.
            throw OAuthError.invalidClient
        } catch {
            context.logger.error("token not issued: database unavailable", metadata: ["error": "\(error)"])
            throw OAuthError.unavailable
        }
        return JSONResponse.make(TokenResponse(issued), status: .ok, headers: .noStore)
    }

    /// The success body (RFC 6749 §5.1), with a `clientId` member as well (the client the token was issued to).
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
        let form = try await readForm(request)
        guard let token = form["token"] else { throw OAuthError.invalidRequest("token is missing") }
        let client = try await authenticateClient(request, form, context)
        // RFC 7009 §2.2: 200 whether or not the token existed or was this client's; the hint is only a hint.
        do {
            // Only a token that was live is forgotten: each eviction makes the cache store nothing that was
            // being read meanwhile, so a loop of revocations of junk would otherwise keep every tenant's tokens
            // out of it.
            if try await clients.revokeToken(token, of: client) { verifier.forget(token: token) }
        } catch {
            context.logger.error("token not revoked: database unavailable", metadata: ["error": "\(error)"])
            throw OAuthError.unavailable
        }
        return Response(status: .ok, headers: .noStore)
    }

    // MARK: Shared steps

    /// Reads a form-encoded body, strictly.
    func readForm(_ request: Request) async throws(OAuthError) -> FormBody {
        let contentType = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard contentType == "application/x-www-form-urlencoded" else {
            throw .invalidRequest("the body must be application/x-www-form-urlencoded")
        }
        if let query = request.uri.query, query.contains("client_secret=") || query.contains("token=") {
            throw .invalidRequest("credentials must be sent in the body, never in the URL")
        }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: maxFormBytes) else {
            throw .invalidRequest("the body is too large")
        }
        do {
            return try FormBody(bytes: Array(buffer: buffer))
        } catch .repeated(let name) {
            throw .invalidRequest("\(name) is repeated")
        } catch {
            throw .invalidRequest("the body is not valid form encoding")
        }
    }

    /// Authenticates the client by HTTP Basic (`client_secret_basic`) or by the form body
    /// (`client_secret_post`), never both (RFC 6749 §2.3.1), with the brake on repeated failures.
    func authenticateClient(
        _ request: Request, _ form: FormBody, _ context: HooklineRequestContext
    ) async throws(OAuthError) -> OAuthClient {
        let basic = request.headers[.authorization].flatMap(BasicCredentials.init(header:))
        let usedBasic = request.headers[.authorization].map(BasicCredentials.isBasic) ?? false
        let inBody = form["client_id"] != nil || form["client_secret"] != nil
        if usedBasic && inBody {
            throw .invalidRequest("use one client authentication method: Basic or the body, not both")
        }
        let clientID: String
        let secret: String
        if usedBasic {
            guard let basic else { throw .invalidClient }
            (clientID, secret) = (basic.username, basic.password)
        } else if let id = form["client_id"], let bodySecret = form["client_secret"] {
            (clientID, secret) = (id, bodySecret)
        } else {
            // No credentials, or a client_id without its secret (we have no public clients).
            throw .invalidClient
        }
        // An ID that cannot be ours fails without a look-up, and is neither remembered nor logged: a caller
        // may put a secret in the wrong field, and a stranger must not fill the brake with IDs of any length.
        guard Secrets.isClientIDShaped(clientID) else {
            context.logger.notice("client authentication failed", metadata: ["client_id": "(unrecognised)"])
            throw .invalidClient
        }
        // The brake counts the same address as the allow-lists: the client behind a trusted proxy.
        let source = context.clientAddress(of: request, trustedProxies: trustedProxies) ?? "unknown"
        if let wait = limiter.retryAfter(clientID: clientID, source: source) {
            throw .tooManyAttempts(retryAfter: wait)
        }
        let authenticated: OAuthClient?
        do {
            authenticated = try await clients.authenticate(clientID: clientID, secret: secret)
        } catch {
            // An outage is not a wrong secret: 503, so that the client retries rather than doubting its
            // credentials.
            context.logger.error("client authentication could not reach the database", metadata: ["error": "\(error)"])
            throw .unavailable
        }
        guard let client = authenticated else {
            limiter.recordFailure(clientID: clientID, source: source)
            context.logger.notice("client authentication failed", metadata: ["client_id": "\(clientID)"])
            throw .invalidClient
        }
        limiter.recordSuccess(clientID: clientID, source: source)
        return client
    }
}
