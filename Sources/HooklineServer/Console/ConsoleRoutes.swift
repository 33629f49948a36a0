import Foundation
import HTTPTypes
import Hookline
import Hummingbird
import Postgres

/// `/console`: the operator console, HTML pages over the domain layer (the stores the CLI and the admin API
/// use), for console-level clients (scope `api`).
///
/// Signing in swaps a console client's ID and secret for a console token, as `POST /oauth/token` would, and
/// keeps it in the session cookie (see ``ConsoleSession``). Every POST passes ``ConsoleOriginCheck``; every
/// page but the sign-in form passes ``ConsoleSessionMiddleware``. Actions answer 303 to the page that shows
/// their result.
struct ConsoleRoutes: Sendable {
    let database: PostgresClient
    let verifier: TokenVerifier
    let clients: OAuthClientStore
    let limiter: FailedAuthenticationLimiter
    let transport: ConsoleTransport
    let trustedProxies: [CIDR]
    /// Form bodies larger than this are refused (``ServerSettings/maxConsoleFormBytes``).
    let maxFormBytes: Int

    var renderer: ConsoleRenderer { .shared }

    func register(on router: Router<HooklineRequestContext>) {
        router.get("/console/static/console.css") { _, _ in
            ConsoleRenderer.asset(PackageResources.console_css, type: "text/css; charset=utf-8")
        }
        router.get("/console/static/console.js") { _, _ in
            ConsoleRenderer.asset(PackageResources.console_js, type: "text/javascript; charset=utf-8")
        }
        let console = router.group("/console")
            .add(middleware: ConsoleErrorMiddleware())
            .add(middleware: ConsoleOriginCheck(transport: transport))
        console.get("signin") { request, _ in signInForm(next: request.uri.queryParameters.get("next")) }
        console.post("signin") { request, context in try await signIn(request, context) }

        let pages = console.group().add(
            middleware: ConsoleSessionMiddleware(verifier: verifier, maxFormBytes: maxFormBytes))
        pages.post("signout") { request, context in try await signOut(request, context) }
        registerOverview(on: pages)
        registerAccounts(on: pages)
        registerJobs(on: pages)
    }

    // MARK: Signing in and out

    struct SignInView {
        var next: String
        var error: String?
        var clientID: String
    }

    func signInForm(
        next: String?, error: String? = nil, clientID: String = "", status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:]
    ) -> Response {
        renderer.page(
            "signin", SignInView(next: ConsoleForm.safeNext(next) ?? "/console", error: error, clientID: clientID),
            status: status, headers: headers)
    }

    func signIn(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        var request = request
        let form = try await ConsoleForm.read(&request, maxBytes: maxFormBytes)
        let clientID = (form["client_id"] ?? "").trimmingCharacters(in: .whitespaces)
        let secret = form["client_secret"] ?? ""
        let next = ConsoleForm.safeNext(form["next"]) ?? "/console"
        let refused = "Those credentials were not accepted: sign in with a console client's ID and secret."
        // As at the token endpoint: an ID that cannot be ours is neither looked up nor remembered.
        guard Secrets.isClientIDShaped(clientID), !secret.isEmpty else {
            return signInForm(next: next, error: refused, status: .unauthorized)
        }
        let source = context.clientAddress(of: request, trustedProxies: trustedProxies) ?? "unknown"
        if let wait = limiter.retryAfter(clientID: clientID, source: source) {
            return signInForm(
                next: next, error: "Too many failed attempts: try again in \(wait) s.", clientID: clientID,
                status: .tooManyRequests, headers: [.retryAfter: "\(wait)"])
        }
        let issued: IssuedToken
        do {
            guard let client = try await clients.authenticate(clientID: clientID, secret: secret),
                client.scope == .api, client.accountID == nil
            else {
                limiter.recordFailure(clientID: clientID, source: source)
                context.logger.notice("console sign-in failed", metadata: ["client_id": "\(clientID)"])
                return signInForm(next: next, error: refused, clientID: clientID, status: .unauthorized)
            }
            limiter.recordSuccess(clientID: clientID, source: source)
            issued = try await clients.issueToken(to: client)
        } catch HooklineError.revoked {
            return signInForm(next: next, error: refused, status: .unauthorized)
        } catch {
            context.logger.error("console sign-in: database unavailable", metadata: ["error": "\(error)"])
            throw ConsolePageError.databaseUnavailable
        }
        let cookie = ConsoleSession.setCookie(
            issued.accessToken, seconds: issued.expiresIn, secure: transport.isSecure(request, context))
        return Response(
            status: .seeOther, headers: [.location: next, .setCookie: cookie, .cacheControl: "no-store"])
    }

    func signOut(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        if let session = context.consoleSession {
            do {
                if try await clients.revokeToken(session.token, clientRowID: session.grant.clientRowID) {
                    verifier.forget(token: session.token)
                }
            } catch {
                // The cookie goes anyway; the token expires or is revoked with its client.
                context.logger.error("console sign-out: the token was not revoked", metadata: ["error": "\(error)"])
            }
        }
        return Response(
            status: .seeOther,
            headers: [
                .location: "/console/signin",
                .setCookie: ConsoleSession.clearCookie(secure: transport.isSecure(request, context)),
                .cacheControl: "no-store",
            ])
    }

    // MARK: Shared

    /// The `{id}` parameter as a UUID, or 404.
    static func uuid(_ context: HooklineRequestContext, _ name: String = "id") throws -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw ConsolePageError.notFound("No such page.")
        }
        return id
    }

    /// 303 to `location`.
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}
