import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

@Suite("The pool: concurrency, recovery, cancellation, LISTEN/NOTIFY")
struct PoolTests {
    @Test func twoHundredConcurrentQueriesThroughAPoolOfFourAllSucceed() async throws {
        let client = try TestDatabase.client(maxConnections: 4)
        defer { client.close() }
        let results = try await withThrowingTaskGroup(of: (Int, Int, Int32).self) { group in
            for index in 0..<200 {
                group.addTask {
                    let row = try await client.query("SELECT \(index)::int8 * 2, pg_backend_pid(), pg_sleep(0.001)")[0]
                    return (index, try row.decode(Int.self, at: 0), try row.decode(Int32.self, at: 1))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0.1 == $0.0 * 2 })
        let backends = Set(results.map(\.2))
        #expect(backends.count <= 4)
        #expect(backends.count >= 2)
    }

    @Test func aTerminatedBackendSurfacesAsConnectionLostAndThePoolRecovers() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        let admin = try TestDatabase.client(maxConnections: 1)
        defer {
            client.close()
            admin.close()
        }
        let pid = try await client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
        let terminated = try await admin.query("SELECT pg_terminate_backend(\(pid))")[0].decode(Bool.self, at: 0)
        #expect(terminated)
        await #expect {
            try await client.query("SELECT 1")
        } throws: { error in
            (error as? PostgresError)?.kind == .connectionLost
        }
        let row = try await client.query("SELECT 41 + 1, pg_backend_pid()")[0]
        #expect(try row.decode(Int.self, at: 0) == 42)
        #expect(try row.decode(Int32.self, at: 1) != pid)
    }

    /// One connection finds its server gone (here its backend terminated; in a failover, the old primary):
    /// the pool's other connections, opened before, are not used again, since each would fail its next
    /// request (or hang on a silent server until the answer timeout) to find out.
    @Test func aLostConnectionRetiresTheConnectionsOpenedBeforeIt() async throws {
        let client = try TestDatabase.client(maxConnections: 2)
        let admin = try TestDatabase.client(maxConnections: 1)
        defer {
            client.close()
            admin.close()
        }
        let before = try await Self.backends(of: client)
        #expect(before.count == 2)
        let victim = try #require(before.first)
        _ = try await admin.query("SELECT pg_terminate_backend(\(victim))")
        var lost = false
        for _ in 0..<10 where !lost {
            do {
                _ = try await Self.backends(of: client)
            } catch {
                lost = (error as? PostgresError)?.kind == .connectionLost
            }
        }
        #expect(lost, "a request met the terminated connection")
        let after = try await Self.backends(of: client)
        #expect(after.isDisjoint(with: before), "both connections were opened again")
    }

    /// The backends of a pool of two: two statements at once, each holding its connection a moment.
    private static func backends(of client: PostgresClient) async throws -> Set<Int32> {
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await client.query("SELECT pg_backend_pid(), pg_sleep(0.2)")[0].decode(Int32.self, at: 0)
                }
            }
            return try await group.reduce(into: []) { $0.insert($1) }
        }
    }

    @Test func cancellingTheTaskCancelsARunningStatementWithinASecond() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let clock = ContinuousClock()
        let marker = TestDatabase.uniqueName("sleep")
        let task = Task { try await client.query(PostgresQuery(unsafeSQL: "SELECT pg_sleep(30) -- \(marker)")) }
        // Wait until the statement is really running on the server.
        let admin = try TestDatabase.client(maxConnections: 1)
        defer { admin.close() }
        try await waitUntilRunning(marker, admin: admin)
        let cancelledAt = clock.now
        task.cancel()
        let result = await task.result
        let elapsed = cancelledAt.duration(to: clock.now)
        #expect(elapsed < .seconds(1), "took \(elapsed)")
        #expect(throws: PostgresError.self) { try result.get() }
        if case .failure(let error as PostgresError) = result { #expect(error.kind == .cancelled) }
        // The connection is still good for the next caller.
        #expect(try await client.query("SELECT 5")[0].decode(Int.self, at: 0) == 5)
    }

    @Test func cancellingAQueuedRequestTakesItOutOfTheQueue() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        let admin = try TestDatabase.client(maxConnections: 1)
        defer {
            client.close()
            admin.close()
        }
        let table = TestDatabase.uniqueName("queued")
        try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (v int)"))
        let marker = TestDatabase.uniqueName("busy")
        let busy = Task { try await client.query(PostgresQuery(unsafeSQL: "SELECT pg_sleep(30) -- \(marker)")) }
        try await waitUntilRunning(marker, admin: admin)
        // The pool's only connection is busy, so this request waits in the queue.
        let queued = Task { try await client.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1)")) }
        try await Task.sleep(for: .milliseconds(100))
        queued.cancel()
        await #expect {
            try await queued.value
        } throws: { error in
            (error as? PostgresError)?.kind == .cancelled
        }
        busy.cancel()
        _ = await busy.result
        let count = try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))
        #expect(try count[0].decode(Int.self, at: 0) == 0)
    }

    /// Waits until a statement whose text contains `marker` is running on the server.
    func waitUntilRunning(_ marker: String, admin: PostgresClient) async throws {
        for _ in 0..<250 {
            let running = try await admin.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_sleep(30) -- ' || \(marker)
                """)
            if try running[0].decode(Int.self, at: 0) > 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the statement never started")
    }

    @Test func aNotifyFromAnotherConnectionWakesAWaitingListenerPromptly() async throws {
        let client = try TestDatabase.client(maxConnections: 2)
        defer { client.close() }
        let channel = TestDatabase.uniqueName("wake")
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let clock = ContinuousClock()
        let listener = Task {
            try await client.withConnection { connection -> (PostgresNotification?, Duration) in
                try connection.listen(channel)
                readyContinuation.yield()
                let start = clock.now
                let notification = try connection.waitForNotification(timeout: .seconds(30))
                return (notification, start.duration(to: clock.now))
            }
        }
        for await _ in ready { break }
        try await client.query("SELECT pg_notify(\(channel), 'payload ✓')")
        let (notification, waited) = try await listener.value
        #expect(notification?.channel == channel)
        #expect(notification?.payload == "payload ✓")
        #expect(waited < .seconds(5), "waited \(waited)")
    }

    @Test func aWaitWithNoNotifyReturnsNilAtItsTimeout() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let channel = TestDatabase.uniqueName("quiet")
        let (notification, waited) = try await client.withConnection { connection in
            try connection.listen(channel)
            let clock = ContinuousClock()
            let start = clock.now
            let notification = try connection.waitForNotification(timeout: .milliseconds(300))
            return (notification, start.duration(to: clock.now))
        }
        #expect(notification == nil)
        #expect(waited >= .milliseconds(300))
        #expect(waited < .seconds(3))
    }

    @Test func aPooledConnectionForgetsItsSubscriptionsWhenReturned() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let channel = TestDatabase.uniqueName("forget")
        try await client.withConnection { connection in try connection.listen(channel) }
        let channels = try await client.query("SELECT count(*) FROM pg_listening_channels()")
        #expect(try channels[0].decode(Int.self, at: 0) == 0)
    }

    @Test func aClosedPoolFailsNewRequests() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        client.close()
        await #expect {
            try await client.query("SELECT 1")
        } throws: { error in
            (error as? PostgresError)?.kind == .poolClosed
        }
    }

    /// The pool keeps nothing of a request once it has run: what its work holds (a statement's values, which for
    /// a batch of deliveries can be many megabytes) is freed then, not when later requests push it out.
    @Test func aRequestThatRanIsNotKeptByThePool() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let held = try await Self.runHolding(client)
        try await eventually(within: .seconds(2)) { held.value == nil }
    }

    private final class Marker: Sendable {}

    private struct WeakMarker: Sendable {
        weak var value: Marker?
    }

    /// Runs a request whose work holds a marker, and returns a weak reference to it.
    private static func runHolding(_ client: PostgresClient) async throws -> WeakMarker {
        let marker = Marker()
        try await client.withConnection { _ in withExtendedLifetime(marker) {} }
        return WeakMarker(value: marker)
    }

    /// libpq never shrinks a connection's buffers: after a statement that sent, or a row that brought, more than
    /// ``PostgresConnection/largeBufferBytes``, the pool closes the connection rather than keep megabytes per
    /// connection for its lifetime. Small statements and rows keep it, however many rows a result has.
    @Test(arguments: [Traffic.sent, .received])
    func aConnectionThatMovedALargeValueIsClosedAfterIt(_ traffic: Traffic) async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let first = try await client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
        try await client.query("SELECT length(\(Data(repeating: 7, count: 100_000)))")
        // Many small rows that add up to more: libpq's receive buffer holds one row at a time.
        let rows = PostgresConnection.largeBufferBytes / 1_000 + 1
        try await client.query("SELECT repeat('x', 1000) FROM generate_series(1, \(rows))")
        let small = try await client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
        #expect(small == first, "small statements and rows keep their connection")
        let size = PostgresConnection.largeBufferBytes + 1
        switch traffic {
        case .sent: try await client.query("SELECT length(\(Data(repeating: 7, count: size)))")
        case .received: try await client.query("SELECT repeat('x', \(size)::int)")
        }
        let after = try await client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
        #expect(after != first, "a new connection after the large one")
    }

    /// A connection that moved more than ``PostgresConnection/idleBufferBytes`` (and not more than
    /// ``PostgresConnection/largeBufferBytes``) keeps serving requests while they come, and is closed once it
    /// has idled for `buffersKeptIdle`; one that moved less is kept however long it idles.
    @Test func aConnectionWithMidSizedBuffersIsClosedOnceIdle() async throws {
        let client = PostgresClient(
            configuration: .init(
                connectionString: try TestDatabase.url, maxConnections: 1, buffersKeptIdle: .seconds(1)))
        defer { client.close() }
        let pid = { try await client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0) }
        let first = try await pid()
        try await Task.sleep(for: .milliseconds(2_500))
        #expect(try await pid() == first, "small buffers: kept while idle")
        try await client.query("SELECT length(\(Data(repeating: 7, count: PostgresConnection.idleBufferBytes + 1)))")
        #expect(try await pid() == first, "kept while requests come")
        try await Task.sleep(for: .milliseconds(2_500))
        #expect(try await pid() != first, "closed once idle")
    }

    enum Traffic { case sent, received }
}
