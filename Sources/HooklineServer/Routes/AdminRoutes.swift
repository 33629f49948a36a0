import Hookline
import Hummingbird

/// `/api/v1/…`: the admin API, for console-level tokens (scope `api`) only: ``APITokenMiddleware`` guards the
/// whole group.
struct AdminRoutes: Sendable {
    let verifier: TokenVerifier
    let accounts: AccountStore

    func register(on router: Router<HooklineRequestContext>) {
        let api = router.group("/api/v1").add(middleware: APITokenMiddleware(verifier: verifier))
        api.get("/accounts") { _, _ in
            JSONResponse.make(try await accounts.list(), status: .ok)
        }
        api.post("/accounts") { request, context in
            struct NewAccount: Decodable { var name: String }
            guard let body = try? await request.decode(as: NewAccount.self, context: context) else {
                throw APIError(.badRequest, "invalid_request", "expected {\"name\": …}")
            }
            do {
                return JSONResponse.make(try await accounts.create(name: body.name), status: .created)
            } catch let error as HooklineError {
                throw APIError(.badRequest, "invalid_request", error.description)
            }
        }
    }
}
