import Foundation
import HTTPTypes
import Hookline
import HooklineAPI
import HooklineAPIGenerated
import Hummingbird
import Logging
import OpenAPIHummingbird
import Postgres

/// `/api/v1/…`: the admin API, for console-level tokens (scope `api`) only. Its operations come from
/// `api/openapi.yaml` (generated into `Generated/AdminAPI`) and are answered by ``AdminAPI``; in front of them
/// the token check, the body limit and idempotency keys. The document itself is served, without a token, at
/// `/api/v1/openapi.json`.
struct AdminRoutes: Sendable {
    let database: PostgresClient
    let verifier: TokenVerifier
    let settings: ServerSettings
    let now: @Sendable () -> Date
    let logger: Logger

    /// The document, parsed once.
    private let document = (try? JSON(parsing: Array(OpenAPIDocument.json.utf8))) ?? .object([:])

    func register(on router: Router<HooklineRequestContext>) {
        router.get("/api/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        let api = router.group("/api/v1")
            .add(middleware: APITokenMiddleware(verifier: verifier))
            .add(middleware: APIBodyLimitMiddleware(maxBytes: settings.maxAPIBodyBytes))
            .add(
                middleware: IdempotencyMiddleware(
                    store: APIIdempotencyStore(database: database, staleClaim: settings.apiIdempotencyClaimTimeout),
                    paths: Self.idempotentPaths(of: document)))
        do {
            try AdminAPI(database: database, now: now).registerHandlers(
                on: api, serverURL: URL(string: "/")!,
                configuration: .init(jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
                middlewares: [
                    ProblemMiddleware(logger: logger), TransportFixMiddleware(), RequestValidationMiddleware(),
                ])
        } catch {
            // Registration fails only for a path the router cannot parse: the generated paths are fixed.
            preconditionFailure("the admin API's routes did not register: \(error)")
        }
        refuseOtherMethods(on: api)
    }

    /// The paths (under `/api/v1`) of the POSTs that take `Idempotency-Key`: those that create.
    static func idempotentPaths(of document: JSON) -> Set<String> {
        let header = JSON.string("#/components/parameters/IdempotencyKey")
        return Set(
            (document["paths"]?.object ?? [:]).compactMap { path, item in
                let parameters = item["post"]?["parameters"]?.array ?? []
                return parameters.contains { $0["$ref"] == header } ? "/api/v1" + path : nil
            })
    }

    /// 405 with `Allow` for a method that a documented path does not take, HEAD included, and 404 for a path
    /// the document does not have, both as problems (rather than the router's bare 404).
    private func refuseOtherMethods(on api: RouterGroup<HooklineRequestContext>) {
        let paths = document["paths"]?.object ?? [:]
        let methods: [HTTPRequest.Method] = [
            .get, .head, .post, .put, .patch, .delete, .options, .trace,
            HTTPRequest.Method("QUERY")!,
        ]
        for (path, item) in paths {
            let allowed = methods.filter { item[$0.rawValue.lowercased()] != nil }
            let refusal = ProblemResponse(
                Problem(
                    .methodNotAllowed, "\(path) takes \(allowed.map(\.rawValue).joined(separator: ", "))",
                    headers: [.allow: allowed.map(\.rawValue).joined(separator: ", ")]))
            for method in methods where !allowed.contains(method) {
                api.on(RouterPath(path), method: method) { _, _ -> Response in throw refusal }
            }
        }
        // Any other path under the API is a problem too, rather than the router's bare 404.
        let unknown = ProblemResponse(Problem(.notFound, "no such path in the admin API (see /api/v1/openapi.json)"))
        for method in methods {
            api.on("**", method: method) { _, _ -> Response in throw unknown }
            api.on("", method: method) { _, _ -> Response in throw unknown }
        }
    }
}
