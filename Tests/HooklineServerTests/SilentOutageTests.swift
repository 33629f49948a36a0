import Foundation
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Postgres
import TestSupport
import Testing

@Suite("A database connection dropped without a word")
struct SilentOutageTests {
    /// Between the ingress and PostgreSQL, a proxy goes silent: sockets open, nothing relayed, every byte
    /// acknowledged by the proxy's kernel. The LISTEN connection must notice (its ping goes unanswered) and
    /// stop trusting its caches, and a delivery must answer 503 instead of hanging.
    @Test func theIngressNoticesASilentlyDroppedConnectionAndAnswers503() async throws {
        try await ServerFixture.run { fixture in
            let (created, account, _) = try await fixture.webhook(.bearer)
            let credentials = try await fixture.clients.create(account: account.id, scope: .webhook)
            let token = try await fixture.clients.issueToken(to: credentials.client)
            try await Self.throughProxy(fixture, statementTimeout: .seconds(1), listenerPing: .seconds(1)) {
                proxy, client in
                let port = try #require(client.port)
                let bearer = [("Authorization", "Bearer \(token.accessToken)")]
                try await LoopbackHTTP.with(port: port) { http in
                    try await eventually(within: .seconds(10)) {
                        try await http.post(created.webhook.urlPath, "{}", headers: bearer).status == 202
                    }
                    proxy.freeze()
                    let clock = ContinuousClock()
                    let start = clock.now
                    try await eventually(within: .seconds(6)) {
                        !fixture.logs.lines(containing: "token revocations: not listening").isEmpty
                    }
                    let answer = try await http.post(
                        created.webhook.urlPath, .bytes(ByteBuffer(string: "{}")), headers: bearer,
                        timeout: .seconds(20))
                    #expect(answer.status == 503, "answered, not left hanging")
                    #expect(start.duration(to: clock.now) < .seconds(15))
                }
            }
        }
    }

    /// `GET /readyz` answers within two seconds whatever the database does (a balancer's check waits 3 s): its
    /// probe's task group waited for the cancelled `SELECT 1`, which against a silent server returns only at the
    /// answer timeout (the database timeout and 5 s more).
    @Test func readinessAnswersWithinTwoSecondsOfASilentDatabase() async throws {
        try await ServerFixture.run { fixture in
            try await Self.throughProxy(fixture, statementTimeout: .seconds(10)) { proxy, client in
                let port = try #require(client.port)
                let ready = try RawConnection(port: port)
                ready.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
                // Read on a thread of its own: a blocking read on the cooperative pool stalled every test beside
                // it for its timeout (a fresh-clone CI run failed five time-bound tests so).
                #expect(try await onOwnThread { ready.read(timeout: .seconds(10)) }.hasPrefix("HTTP/1.1 200"))
                proxy.freeze()
                let clock = ContinuousClock()
                for _ in 0..<3 {
                    let start = clock.now
                    let probe = try RawConnection(port: port)
                    probe.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
                    let answer = try await onOwnThread { probe.read(timeout: .seconds(20)) }
                    #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer.prefix(40))")
                    #expect(start.duration(to: clock.now) < .seconds(3))
                }
            }
        }
    }

    /// Runs `body` with a live application whose pool (four connections, statements of `statementTimeout`)
    /// reaches the fixture's database through a proxy that can go silent.
    static func throughProxy(
        _ fixture: ServerFixture, statementTimeout: Duration, listenerPing: Duration = .seconds(10),
        _ body: @Sendable (FreezingProxy, any TestClientProtocol) async throws -> Void
    ) async throws {
        var url = try #require(URLComponents(string: fixture.database.url))
        let proxy = try FreezingProxy(target: try #require(url.port))
        defer { proxy.stop() }
        url.port = proxy.port
        let database = PostgresClient(
            configuration: .init(
                connectionString: try #require(url.string), maxConnections: 4, statementTimeout: statementTimeout))
        defer { database.close() }
        let app = buildApplication(
            settings: ServerSettings(host: "127.0.0.1", port: 0),
            dependencies: ServerDependencies(
                database: database, now: fixture.clock.closure, logger: fixture.logs.logger(),
                listenerPing: listenerPing))
        try await app.test(.live) { client in try await body(proxy, client) }
    }
}
