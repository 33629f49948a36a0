import Foundation
import Postgres
import TestSupport
import Testing

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
