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
    /// A small rest is read and dropped, and the next request on the connection answered. After a large one,
    /// announced by its `Content-Length`, the answer says `Connection: close` and the connection is closed
    /// before the next request is answered, whether the client reads the answer before it sends the body or
    /// after: the answer arrives either way (no reset discards it).
    @Test(arguments: [Path.fastPath, .router])
    func aLargeRefusedBodyClosesTheConnectionAndASmallOneDoesNot(_ path: Path) async throws {
        try await ServerFixture.run { fixture in
            let (open, _, _) = try await fixture.webhook(.none)
            let (bearer, _, _) = try await fixture.webhook(.bearer)
            // The admin API is the router's alone; its token check refuses before the body is read.
            let target = path == .fastPath ? bearer.webhook.urlPath : "/api/v1/accounts"
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
                #expect(keptAnswers.map(\.status) == [401, 200], "a small rest is read and dropped")
                #expect(keptAnswers.first?.headers.contains("connection: close") == false)

                // Also with the client asking to close: the fast path then closes after its answer too, and the
                // close lingers alike.
                for (readsFirst, asksToClose) in [(true, false), (false, false), (false, true)] {
                    let large = 8 << 20
                    let closed = try RawConnection(port: port)
                    let text = try await onOwnThread {
                        closed.send(Self.head(target, length: large, close: asksToClose))
                        var text = readsFirst ? closed.read(timeout: .seconds(10)) : ""
                        _ = closed.sendWhileTaken([UInt8](repeating: 0x78, count: large), patience: .seconds(2))
                        closed.send(WebhookFastPathTests.get("/healthz"))
                        text += closed.readUntilClosed(timeout: .seconds(10))
                        return text
                    }
                    let answers = WebhookFastPathTests.answers(in: text)
                    #expect(
                        answers.map(\.status) == [401],
                        "reads first: \(readsFirst), asks to close: \(asksToClose): \(text.prefix(200))")
                    #expect(answers.first?.headers.contains("connection: close") == true)
                    #expect(closed.isClosedByServer, "the server closed the connection")
                }
                // Chunked, the rest's size is not known in advance: the connection closes once more than the
                // bound has been dropped.
                let chunked = try RawConnection(port: port)
                let text = try await onOwnThread {
                    chunked.send(
                        "POST \(target) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            + "Transfer-Encoding: chunked\r\n\r\n")
                    var text = chunked.read(timeout: .seconds(10))
                    let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 0x78, count: 0x10000) + Array("\r\n".utf8)
                    _ = chunked.sendWhileTaken(Array((0..<64).map { _ in chunk }.joined()), patience: .seconds(2))
                    chunked.send("0\r\n\r\n" + WebhookFastPathTests.get("/healthz"))
                    text += chunked.readUntilClosed(timeout: .seconds(10))
                    return text
                }
                #expect(WebhookFastPathTests.answers(in: text).map(\.status) == [401], "\(text.prefix(200))")
                #expect(chunked.isClosedByServer, "the server closed the connection")
            }
        }
    }

    enum Path: String, CustomStringConvertible {
        case fastPath = "the fast path"
        case router = "the router"
        var description: String { rawValue }
    }

    /// A delivery's head with no body yet.
    static func head(_ path: String, length: Int, close: Bool = false) -> String {
        "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + (close ? "Connection: close\r\n" : "") + "Content-Length: \(length)\r\n\r\n"
    }
}
