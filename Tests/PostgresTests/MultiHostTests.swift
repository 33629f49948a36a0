import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Several hosts in one connection string")
struct MultiHostTests {
    /// The first listed host went silent (a proxy that accepts and never relays, as a host that vanished
    /// from the network looks to libpq once connected); the second is the server. The first connection waits
    /// out `connect_timeout` on the silent host; the next ones go straight to the host that answered.
    ///
    /// What was tried is read from the proxy's count of accepted connections, not from a clock: under the
    /// full suite's load a clock-based bound failed while the order was right. `connect_timeout` is generous
    /// for the same reason (it applies to the server too, whose backend can take seconds to start then).
    @Test func aSilentFirstHostIsTriedOnceWhenAWritableServerIsAskedFor() throws {
        let (silent, url) = try Self.listSilentHostFirst(options: "connect_timeout=4&target_session_attrs=read-write")
        defer { silent.stop() }
        let first = try PostgresConnection(url)
        #expect(silent.acceptedConnections == 1, "libpq tried the silent host first")
        let second = try PostgresConnection(url)
        #expect(silent.acceptedConnections == 1, "the host that answered is tried first now")
        for connection in [first, second] {
            #expect(try connection.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
        }
    }

    /// Without a demand for a writable server the listed order is the caller's preference: libpq's own.
    @Test func theListedOrderIsKeptWhenAnyServerWillDo() throws {
        let (silent, url) = try Self.listSilentHostFirst(options: "connect_timeout=4")
        defer { silent.stop() }
        _ = try PostgresConnection(url)
        #expect(silent.acceptedConnections == 1)
        _ = try PostgresConnection(url)
        #expect(silent.acceptedConnections == 2, "the first listed host is tried first again")
    }

    /// `DATABASE_URL` with a frozen proxy listed before the server itself.
    private static func listSilentHostFirst(options: String) throws -> (FreezingProxy, String) {
        let url = try TestDatabase.url
        let components = try #require(URLComponents(string: url))
        let host = try #require(components.host)
        let port = try #require(components.port)
        let proxy = try FreezingProxy(target: port)
        proxy.freeze()
        let listed = url.replacingOccurrences(of: "@\(host):\(port)/", with: "@\(host):\(proxy.port),\(host):\(port)/")
        try #require(listed != url, "DATABASE_URL names its host and port")
        return (proxy, listed + (components.query == nil ? "?" : "&") + options)
    }
}
