import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Several hosts in one connection string")
struct MultiHostTests {
    /// The first listed host is up but not taking connections (SQLSTATE 57P03, as a restarting primary or a
    /// standby that is not ready answers); the second is the server. The first connection tries the first
    /// host and moves on; the next ones go straight to the host that accepted.
    ///
    /// What was tried is read from the first host's count of accepted connections, not from a clock. An
    /// earlier version listed a silent host instead and relied on `connect_timeout` to move on; under the full
    /// suite's load it failed on CI, since the same timeout also bounds the real server's start-up.
    @Test func aHostThatTurnedItAwayIsTriedOnceWhenAWritableServerIsAskedFor() throws {
        let (declining, url) = try Self.listDecliningHostFirst(
            options: "connect_timeout=30&target_session_attrs=read-write")
        defer { declining.stop() }
        let first = try Self.connect(url)
        #expect(declining.acceptedConnections == 1, "libpq tried the first listed host first")
        let second = try Self.connect(url)
        #expect(declining.acceptedConnections == 1, "the host that accepted is tried first now")
        for connection in [first, second] {
            #expect(try connection.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
        }
    }

    /// Without a demand for a writable server the listed order is the caller's preference: libpq's own.
    @Test func theListedOrderIsKeptWhenAnyServerWillDo() throws {
        let (declining, url) = try Self.listDecliningHostFirst(options: "connect_timeout=30")
        defer { declining.stop() }
        _ = try Self.connect(url)
        #expect(declining.acceptedConnections == 1)
        _ = try Self.connect(url)
        #expect(declining.acceptedConnections == 2, "the first listed host is tried first again")
    }

    /// `DATABASE_URL` with a host that declines connections listed before the server itself.
    private static func listDecliningHostFirst(options: String) throws -> (StartingUpServer, String) {
        let url = try TestDatabase.url
        let components = try #require(URLComponents(string: url))
        let host = try #require(components.host)
        let port = try #require(components.port)
        let declining = try StartingUpServer()
        let listed = url.replacingOccurrences(
            of: "@\(host):\(port)/", with: "@\(host):\(declining.port),\(host):\(port)/")
        try #require(listed != url, "DATABASE_URL names its host and port")
        return (declining, listed + (components.query == nil ? "?" : "&") + options)
    }

    /// Connects, and on failure names libpq's message (the error's description names only its kind).
    private static func connect(_ url: String) throws -> PostgresConnection {
        do {
            return try PostgresConnection(url)
        } catch let error as PostgresError {
            Issue.record("connecting failed: \(String(reflecting: error))")
            throw error
        }
    }
}
