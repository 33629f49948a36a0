import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// `Expect: 100-continue` (RFC 9110 §10.1.1): a client that sends it waits for `100 Continue` before its body
/// (curl a second, other clients until their own timeout); the server must answer it, or give its final
/// answer first.
@Suite("Expect: 100-continue")
struct ExpectContinueTests {
    @Test func aDeliveryThatExpectsContinueGetsItThenItsAnswer() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let head = Self.expecting(created.webhook.urlPath)
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let connection = try RawConnection(port: port)
                connection.send(head)
                let interim = try await onOwnThread { connection.read(timeout: .seconds(2)) }
                #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"), "before the body: \(interim.debugDescription)")
                connection.send("{}")
                let answer = try await onOwnThread { connection.read(timeout: .seconds(5)) }
                #expect(answer.hasPrefix("HTTP/1.1 202"), "\(answer.debugDescription)")
                // The connection goes on: a second delivery, without the expectation.
                connection.send(head.replacingOccurrences(of: "Expect: 100-continue\r\n", with: "") + "{}")
                let second = try await onOwnThread { connection.read(timeout: .seconds(5)) }
                #expect(second.hasPrefix("HTTP/1.1 202"), "\(second.debugDescription)")
            }
            #expect(try await fixture.jobCount(created.webhook.id) == 2)
        }
    }

    /// HTTP/1.0 has no 100 (Continue): the expectation is ignored (RFC 9110 §10.1.1).
    @Test func anHTTP10RequestsExpectationIsIgnored() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let connection = try RawConnection(port: port)
                connection.send(Self.expecting(created.webhook.urlPath, version: "1.0"))
                let interim = try await onOwnThread { connection.read(timeout: .seconds(1)) }
                #expect(interim.isEmpty, "\(interim.debugDescription)")
                connection.send("{}")
                let answer = try await onOwnThread { connection.readUntilClosed(timeout: .seconds(5)) }
                #expect(answer.hasPrefix("HTTP/1.1 202"), "\(answer.debugDescription)")
            }
        }
    }

    /// Behind a pipelined request, the 100 waits for that request's answer; behind one that closes the
    /// connection, it never comes.
    @Test func behindPipelinedRequestsTheContinueWaitsItsTurn() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let expecting = Self.expecting(created.webhook.urlPath)
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let connection = try RawConnection(port: port)
                connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + expecting)
                var text = ""
                try await eventually(within: .seconds(5)) {
                    text += try await onOwnThread { connection.read(timeout: .milliseconds(200)) }
                    return text.contains("100 Continue")
                }
                let healthz = try #require(text.range(of: "HTTP/1.1 200"))
                let interim = try #require(text.range(of: "HTTP/1.1 100 Continue"))
                #expect(healthz.lowerBound < interim.lowerBound, "the 100 after the answer before it: \(text)")
                connection.send("{}")
                let answer = try await onOwnThread { connection.read(timeout: .seconds(5)) }
                #expect(answer.contains("HTTP/1.1 202"), "\(answer.debugDescription)")

                let closing = try RawConnection(port: port)
                closing.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + expecting)
                let all = try await onOwnThread { closing.readUntilClosed(timeout: .seconds(5)) }
                #expect(all.hasPrefix("HTTP/1.1 200"))
                #expect(!all.contains("100 Continue"), "nothing after an answer that closes: \(all)")
            }
        }
    }

    /// The head of a two-byte delivery to `path` that expects `100-continue`.
    static func expecting(_ path: String, version: String = "1.1") -> String {
        "POST \(path) HTTP/\(version)\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    }
}
