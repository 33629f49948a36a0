import Logging
import Postgres
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// The pool as a ServiceLifecycle service: it closes after the services that use it, and only on graceful
/// shutdown.
@Suite("The pool as a service")
struct PoolServiceTests {
    private struct Failed: Error {}

    /// Fails its group shortly after starting, which cancels every service of the group at once.
    private struct FailingService: Service {
        func run() async throws {
            try await Task.sleep(for: .milliseconds(100))
            throw Failed()
        }
    }

    /// Like a worker draining: once shut down or cancelled, it still finishes its work on the pool a little
    /// later.
    private final class DrainingService: Service {
        let client: PostgresClient
        /// What its last statement returned, or the error it failed with.
        let answer = Mutex<String?>(nil)

        init(client: PostgresClient) { self.client = client }

        func run() async throws {
            try? await gracefulShutdown()
            // Not cancellable, like a drain's last statements: a cancelled sleep would return at once.
            await Task.detached { try? await Task.sleep(for: .milliseconds(300)) }.value
            let client = client
            let result = await Task.detached { () -> String in
                do {
                    return String(try await client.query("SELECT 7")[0].decode(Int.self, at: 0))
                } catch {
                    return "\(error)"
                }
            }.value
            answer.withLock { $0 = result }
        }
    }

    /// A group that fails is cancelled as a whole; a pool that closed then would fail the statements of the
    /// services still finishing (a worker handing its jobs back). It stays open for its owner to close.
    @Test func aCancelledGroupLeavesThePoolToTheServicesStillFinishing() async throws {
        let client = try TestDatabase.client(maxConnections: 2)
        defer { client.close() }
        let draining = DrainingService(client: client)
        let group = ServiceGroup(
            services: [client, FailingService(), draining], logger: Logger(label: "test.pool-service"))
        await #expect(throws: (any Error).self) { try await group.run() }
        #expect(draining.answer.withLock { $0 } == "7", "the pool was closed under a service still finishing")
    }

    /// On graceful shutdown the pool closes after the services listed after it have returned.
    @Test func gracefulShutdownClosesThePoolLast() async throws {
        let client = try TestDatabase.client(maxConnections: 2)
        defer { client.close() }
        let draining = DrainingService(client: client)
        let group = ServiceGroup(services: [client, draining], logger: Logger(label: "test.pool-service"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(100))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(draining.answer.withLock { $0 } == "7")
        await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
    }
}
