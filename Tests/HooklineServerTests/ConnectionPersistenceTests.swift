import Foundation
import HummingbirdTesting
import TestSupport
import Testing

@testable import HooklineServer

/// Whether a connection persists past a request, by its version (RFC 9112 §9.3): an HTTP/1.0 request persists
/// only when it asks for `keep-alive`. A client of that kind (ApacheBench without `-k`, many scripts) may read
/// its answer until the connection closes, so a server that keeps it open leaves it waiting.
@Suite("Connection persistence by HTTP version")
struct ConnectionPersistenceTests {
    /// An HTTP/1.0 request without `keep-alive` is the connection's last, on the router's path and on the fast
    /// path: sent alone, it is answered with `Connection: close` and the connection closes; with a delivery
    /// pipelined after it, that delivery is neither answered nor stored.
    @Test(arguments: [Path.router, .fastPath])
    func anHTTP10RequestWithoutKeepAliveIsTheConnectionsLast(_ path: Path) async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let webhook = created.webhook.urlPath
            let request =
                switch path {
                case .router: "GET /healthz HTTP/1.0\r\n\r\n"
                case .fastPath:
                    "POST \(webhook) HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                }
            let sent = try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let sent = try await WebhookFastPathTests.untilTheFastPathTakes(webhook, port: port)
                let fastBefore = try await WebhookFastPathTests.fastPathAnswers(port: port)
                for pipelined in ["", WebhookFastPathTests.post(webhook, "{}")] {
                    let connection = try RawConnection(port: port)
                    connection.send(request + pipelined)
                    let text = try await onOwnThread { connection.readUntilClosed(timeout: .seconds(5)) }
                    let answers = WebhookFastPathTests.answers(in: text)
                    #expect(answers.count == 1, "one answer: \(text)")
                    #expect(answers.first?.status == (path == .router ? 200 : 202))
                    #expect(answers.first?.headers.contains("connection: close") == true, "\(text)")
                    #expect(connection.isClosedByServer, "the server closed the connection")
                }
                let fastAfter = try await WebhookFastPathTests.fastPathAnswers(port: port)
                #expect(fastAfter - fastBefore == (path == .fastPath ? 2 : 0), "the path that answered")
                return sent
            }
            #expect(try await fixture.jobCount(created.webhook.id) == sent + (path == .fastPath ? 2 : 0))
        }
    }

    /// An HTTP/1.0 request that lists `close` beside `keep-alive` is the connection's last on the router's path
    /// too (NIO's parser keeps such a connection; the fast path closes it).
    @Test func anHTTP10RequestListingCloseBesideKeepAliveIsTheConnectionsLast() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let request = "GET /healthz HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"
                let connection = try RawConnection(port: port)
                connection.send(request + request)
                let text = try await onOwnThread { connection.readUntilClosed(timeout: .seconds(5)) }
                let answers = WebhookFastPathTests.answers(in: text)
                #expect(answers.map(\.status) == [200], "one answer: \(text)")
                #expect(answers.first?.headers.contains("connection: close") == true, "\(text)")
                #expect(connection.isClosedByServer)
            }
        }
    }

    /// An HTTP/1.0 request that asks for `keep-alive` keeps its connection: the next request on it is answered.
    @Test func anHTTP10RequestWithKeepAliveKeepsTheConnection() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let request = "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                let answers = try await WebhookFastPathTests.answers(
                    try RawConnection(port: port), sending: request + request, count: 2)
                #expect(answers.map(\.status) == [200, 200])
                // An HTTP/1.0 client keeps the connection only when the answer says so (ApacheBench -k).
                #expect(answers.allSatisfy { $0.headers.contains("connection: keep-alive") })
            }
        }
    }

    enum Path: CustomTestStringConvertible {
        case router, fastPath
        var testDescription: String { self == .router ? "the router" : "the fast path" }
    }
}
