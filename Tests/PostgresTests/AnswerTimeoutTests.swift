import Foundation
import TestSupport
import Testing

@testable import Postgres

@Suite("Statements that get no answer")
struct AnswerTimeoutTests {
    @Test func aStatementWithoutAnAnswerInTimeGivesTheConnectionUp() throws {
        let connection = try PostgresConnection(TestDatabase.url)
        let clock = ContinuousClock()
        let start = clock.now
        #expect {
            try connection.query("SELECT pg_sleep(5)", timeout: .milliseconds(300))
        } throws: { error in
            (error as? PostgresError)?.kind == .connectionLost
        }
        #expect(start.duration(to: clock.now) < .seconds(2))
        #expect(connection.isBroken, "a connection whose answer never came is not used again")
    }

    @Test func aStatementTimeoutIsTheSessionsAndTheServerEndsLongStatements() throws {
        let connection = try PostgresConnection(TestDatabase.url, statementTimeout: .milliseconds(250))
        let setting = try connection.query("SHOW statement_timeout")[0].decode(String.self, at: 0)
        #expect(setting == "250ms")
        #expect {
            try connection.query("SELECT pg_sleep(3)")
        } throws: { error in
            (error as? PostgresError)?.code?.rawValue == "57014"
        }
        #expect(!connection.isBroken, "the server cancelled the statement; the connection goes on")
        #expect(try connection.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
    }
}

@Suite("Cancelling a statement on a server that went silent")
struct SilentCancellationTests {
    /// A cancel request opens a connection of its own to the server and waits for the server to close it
    /// (libpq's `PQcancel`). To a host that vanished, or behind a proxy that stopped relaying, that wait has
    /// no end: it must not hold the pool's thread, which has its own bound (the answer timeout) to keep.
    @Test func aCancelledStatementOnASilentServerFreesItsThreadByTheAnswerTimeout() async throws {
        var url = try #require(URLComponents(string: try TestDatabase.url))
        let proxy = try FreezingProxy(target: try #require(url.port))
        defer { proxy.stop() }
        url.port = proxy.port
        let pool = PostgresClient(
            configuration: .init(
                connectionString: try #require(url.string), maxConnections: 1, statementTimeout: .seconds(1)))
        defer { pool.close() }
        try await pool.query("SELECT 1")
        proxy.freeze()
        try await Task.sleep(for: .milliseconds(200))  // the relay threads look at the flag every 50 ms
        let clock = ContinuousClock()
        let start = clock.now
        let silent = Task { try await pool.query("SELECT 1") }
        try await Task.sleep(for: .milliseconds(300))
        silent.cancel()
        // The statement's answer timeout is 1 s + 5 s; the one thread is free after it, and the next request
        // fails on the silent server too, but answers.
        let answered = Flag()
        Task {
            _ = try? await pool.query("SELECT 1")
            answered.set()
        }
        try await eventually(within: .seconds(20)) { answered.isSet }
        #expect(start.duration(to: clock.now) < .seconds(15))
    }
}

@Suite("Cancel requests to a silent server")
struct CancelRequestCapTests {
    /// Each cancel request that a silent server never answers holds a thread for as long as the silence lasts
    /// (libpq's `PQcancel` has no time limit), one per connection. Connections come and go (a pool replaces the
    /// ones it gave up), so their senders share a cap (``CancelRequestLimit/process`` for the connections of the
    /// process; a cap of the test's own here, so that the test takes no place from other tests): past it a
    /// request is not sent, and no thread is started for it.
    @Test func cancelRequestsToASilentServerHoldAtMostTheirCapOfThreads() async throws {
        var url = try #require(URLComponents(string: try TestDatabase.url))
        let proxy = try FreezingProxy(target: try #require(url.port))
        defer { proxy.stop() }
        url.port = proxy.port
        let limit = CancelRequestLimit(most: 4)
        let connections = try (0..<8).map { _ in try PostgresConnection(try #require(url.string)) }
        proxy.freeze()
        for connection in connections { CancelRequestSender(limit: limit).send(for: connection.handle) }
        // Four are on their way, each on a thread of its own that waits for the silent server; the four others
        // were not sent. (The count of the process's cancel threads is not asserted: other tests' come and go.)
        #expect(limit.count == 4)
        try await Task.sleep(for: .milliseconds(300))
        #expect(limit.count == 4, "the silent server holds them")
        #expect(Self.cancelThreads() >= 4)
        proxy.stop()
        // Once the server's side closes, the requests end and give their places back.
        try await eventually { limit.count == 0 }
    }

    /// The threads of this process sending cancel requests, by their name.
    static func cancelThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter {
            (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8))?.hasPrefix("postgres-cancel")
                == true
        }.count
    }
}
