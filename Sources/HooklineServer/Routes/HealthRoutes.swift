import Hummingbird
import Postgres

/// `GET /healthz` (the process answers) and `GET /readyz` (the database answers within two seconds).
struct HealthRoutes: Sendable {
    let database: PostgresClient

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

    func isDatabaseReachable() async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await database.query("SELECT 1")) != nil }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
