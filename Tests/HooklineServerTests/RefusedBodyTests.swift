import Foundation
import Hookline
import HummingbirdTesting
import TestSupport
import Testing

@testable import HooklineServer

/// A request answered before its body was read (a refusal) keeps its connection only if the rest of the body is
/// small: the server reads and drops at most `--max-refused-body-bytes` of it, then closes the connection, on the
/// fast path and on the router's alike. Otherwise one refused request could make the server read any amount.
@Suite("What is read of a refused body")
struct RefusedBodyTests {
    /// 8 MiB sent after a refusal, then a request on the same connection: the connection is closed before that
    /// request is answered. A small rest is read and dropped, and the next request answered.
    @Test(arguments: [Path.fastPath, .router])
    func aLargeRefusedBodyClosesTheConnectionAndASmallOneDoesNot(_ path: Path) async throws {
        try await ServerFixture.run { fixture in
            let (open, _, _) = try await fixture.webhook(.none)
            let (bearer, _, _) = try await fixture.webhook(.bearer)
            let target = path == .fastPath ? bearer.webhook.urlPath : "/webhooks/\(UUID().lowercased)"
            let refusal = path == .fastPath ? 401 : 404
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                _ = try await WebhookFastPathTests.untilTheFastPathTakes(open.webhook.urlPath, port: port)
                // Once, so that the caches know the bearer webhook and the fast path refuses it.
                _ = try await WebhookFastPathTests.answers(
                    try RawConnection(port: port), sending: WebhookFastPathTests.post(target, "{}"), count: 1)

                let small = 16 << 10
                let kept = try RawConnection(port: port)
                let keptAnswers = try await onOwnThread {
                    kept.send(Self.head(target, length: small))
                    let first = WebhookFastPathTests.answers(kept, count: 1)
                    kept.send([UInt8](repeating: 0x78, count: small))
                    kept.send(WebhookFastPathTests.get("/healthz"))
                    return first + WebhookFastPathTests.answers(kept, count: 1)
                }
                #expect(keptAnswers.map(\.status) == [refusal, 200], "a small rest is read and dropped")

                let large = 8 << 20
                let closed = try RawConnection(port: port)
                let (first, after) = try await onOwnThread {
                    closed.send(Self.head(target, length: large))
                    let first = WebhookFastPathTests.answers(closed, count: 1)
                    _ = closed.sendWhileTaken([UInt8](repeating: 0x78, count: large), patience: .seconds(2))
                    closed.send(WebhookFastPathTests.get("/healthz"))
                    return (first, closed.readUntilClosed(timeout: .seconds(10)))
                }
                #expect(first.map(\.status) == [refusal])
                #expect(!after.contains("HTTP/1.1 200"), "the request after the large body is not answered")
                #expect(closed.isClosedByServer, "the server closed the connection")
            }
        }
    }

    enum Path: String, CustomStringConvertible {
        case fastPath = "the fast path"
        case router = "the router"
        var description: String { rawValue }
    }

    /// A delivery's head with no body yet.
    static func head(_ path: String, length: Int) -> String {
        "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n\r\n"
    }
}
