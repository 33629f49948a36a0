import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

/// A LISTEN that succeeds but delivers nothing (through a transaction-mode pooler, the session it ran in goes to
/// other clients) must not be reported as connected: caches trusted on that word would keep what a revocation
/// evicts. The listener sends itself a notification first and reports ``PostgresListener/Event/connected`` only
/// once it came back.
@Suite("The listener's probe")
struct ListenerProbeTests {
    /// The events a listener on `url` reports within `seconds`, as text.
    func events(url: String, seconds: Double) async throws -> [String] {
        let seen = Mutex<[String]>([])
        let listener = PostgresListener(
            connectionString: url, channels: ["probe_test"], probeTimeout: .seconds(1)
        ) { event in
            let text =
                switch event {
                case .connected: "connected"
                case .disconnected(let error): "disconnected: \(error.message)"
                case .notification(let notification): "notification \(notification.channel)"
                }
            seen.withLock { $0.append(text) }
        }
        listener.start()
        try await Task.sleep(for: .seconds(seconds))
        listener.stop()
        return seen.withLock { $0 }
    }

    @Test func aListenerWhoseNotificationsNeverArriveIsNotConnected() async throws {
        var url = try #require(URLComponents(string: try TestDatabase.url))
        let proxy = try FreezingProxy(target: try #require(url.port), dropsNotifications: true)
        defer { proxy.stop() }
        url.port = proxy.port
        let seen = try await events(url: try #require(url.string), seconds: 3)
        #expect(!seen.contains("connected"), "\(seen)")
        #expect(
            seen.first?.hasPrefix("disconnected: LISTEN does not deliver notifications on this connection") == true,
            "\(seen)")
    }

    @Test func aListenerOnADirectConnectionIsConnected() async throws {
        let seen = try await events(url: try TestDatabase.url, seconds: 2)
        #expect(seen == ["connected"])
    }
}
