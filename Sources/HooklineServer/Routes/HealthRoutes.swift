import Hummingbird
import Postgres

/// `GET /healthz` (the process answers) and `GET /readyz` (the database answers within two seconds).
struct HealthRoutes: Sendable {
    let database: PostgresClient
    let probe: ReadinessProbe

    init(database: PostgresClient) {
        self.database = database
        self.probe = ReadinessProbe(database: database)
    }

    func register(on router: Router<HooklineRequestContext>) {
        router.get("/healthz") { _, _ in JSONResponse.make(["status": "ok"], status: .ok) }
        router.get("/readyz") { _, _ in
            await isDatabaseReachable()
                ? JSONResponse.make(["status": "ready"], status: .ok)
                : JSONResponse.make(
                    ["status": "unavailable", "reason": "database unreachable"], status: .serviceUnavailable,
                    headers: [.retryAfter: "1"])
        }
    }

    func isDatabaseReachable() async -> Bool { await probe.answer(within: .seconds(2)) }
}
