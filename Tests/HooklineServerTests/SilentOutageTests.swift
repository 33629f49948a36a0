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
            var url = try #require(URLComponents(string: fixture.database.url))
            let proxy = try FreezingProxy(target: try #require(url.port))
            defer { proxy.stop() }
            url.port = proxy.port
            let database = PostgresClient(
                configuration: .init(
                    connectionString: try #require(url.string), maxConnections: 4, statementTimeout: .seconds(1)))
            defer { database.close() }
            let app = buildApplication(
                settings: ServerSettings(host: "127.0.0.1", port: 0),
                dependencies: ServerDependencies(
                    database: database, now: fixture.clock.closure, logger: fixture.logs.logger(),
                    listenerPing: .seconds(1)))
            try await app.test(.live) { client in
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
}
