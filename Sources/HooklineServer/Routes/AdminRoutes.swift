import Foundation
import Hookline
import Hummingbird

/// `/api/v1/…`: the admin API, for console-level tokens (scope `api`) only.
struct AdminRoutes: Sendable {
    let verifier: TokenVerifier
    let accounts: AccountStore

    func register(on router: Router<HooklineRequestContext>) {
        let api = router.group("/api/v1")
        api.get("/accounts") { request, _ in
            if let refusal = try await refuse(request) { return refusal }
            return JSONResponse.make(try await accounts.list(), status: .ok)
        }
        api.post("/accounts") { request, context in
            if let refusal = try await refuse(request) { return refusal }
            struct NewAccount: Decodable { var name: String }
            guard let body = try? await request.decode(as: NewAccount.self, context: context) else {
                return JSONResponse.error("invalid_request", "expected {\"name\": …}", status: .badRequest)
            }
            do {
                return JSONResponse.make(try await accounts.create(name: body.name), status: .created)
            } catch let error as HooklineError {
                return JSONResponse.error("invalid_request", error.description, status: .badRequest)
            }
        }
    }

    /// The 401 answer when the request does not carry a valid console token; `nil` when it does.
    func refuse(_ request: Request) async throws -> Response? {
        let verdict = try await verifier.verify(
            authorization: request.headers[.authorization], scope: .api, account: nil)
        switch verdict {
        case .valid: return nil
        case .rejected(let rejection): return BearerChallenge.response(for: rejection)
        }
    }
}
