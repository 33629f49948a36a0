import Foundation
import HooklineServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@Suite("Slow and stalled clients", .serialized)
struct SlowClientTests {
    private func settings(_ settings: inout ServerSettings) {
        settings.headerTimeout = .seconds(2)
        settings.bodyTimeout = .seconds(2)
        settings.keepAliveTimeout = .seconds(2)
    }

    /// 300 connections that never finish their heads are closed at the header timeout, and delay no one
    /// meanwhile.
    @Test func connectionsThatNeverFinishTheirHeadsAreClosedAndDelayNoOne() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let app = fixture.application {
                settings(&$0)
                $0.headerTimeout = .seconds(4)
            }
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let http = try RawConnection(port: port)
                let request = "POST \(created.webhook.urlPath) HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                let clock = ContinuousClock()
                let opened = clock.now
                var stalled: [RawConnection] = []
                for _ in 0..<300 {
                    let connection = try RawConnection(port: port)
                    connection.send("POST \(created.webhook.urlPath) HTTP/1.1\r\nHost: x\r\nContent-Ty")
                    stalled.append(connection)
                }
                let start = clock.now
                http.send(request)
                #expect(http.read(timeout: .seconds(10)).hasPrefix("HTTP/1.1 202"))
                #expect(start.duration(to: clock.now) < .seconds(1), "a stalled crowd delays no one")
                let early = stalled.filter(\.isClosedByServer).count
                if opened.duration(to: clock.now) < .seconds(4) {
                    #expect(early == 0, "none closed before the header timeout")
                }
                try await eventually(within: .seconds(8)) { stalled.allSatisfy(\.isClosedByServer) }
            }
        }
    }

    /// A body that stops arriving is cut off at the body timeout; one that trickles on is not.
    @Test func aStalledBodyIsCutOffButATricklingOneIsNot() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            try await fixture.application(settings).test(.live) { client in
                let port = try #require(client.port)
                let head = "POST \(created.webhook.urlPath) HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n"
                let stalled = try RawConnection(port: port)
                stalled.send(head + "{")
                let trickling = try RawConnection(port: port)
                trickling.send(head)
                for byte in "{\"a\":1}".utf8.prefix(6) {
                    trickling.send([byte])
                    try await Task.sleep(for: .milliseconds(700))
                }
                #expect(stalled.isClosedByServer, "no byte for over 4 s: cut off")
                trickling.send("}")
                let answer = trickling.read(timeout: .seconds(10))
                #expect(answer.hasPrefix("HTTP/1.1 202"), "a body that keeps coming is answered: \(answer.prefix(40))")
            }
        }
    }

    /// A kept-alive connection is closed after the keep-alive timeout.
    @Test func anIdleKeptAliveConnectionIsClosed() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            try await fixture.application(settings).test(.live) { client in
                let port = try #require(client.port)
                let connection = try RawConnection(port: port)
                connection.send("POST \(created.webhook.urlPath) HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
                let clock = ContinuousClock()
                #expect(connection.read(timeout: .seconds(10)).hasPrefix("HTTP/1.1 202"))
                let answered = clock.now
                try await Task.sleep(for: .milliseconds(300))
                #expect(!connection.isClosedByServer, "kept alive for a while")
                try await eventually(within: .seconds(5)) { connection.isClosedByServer }
                #expect(answered.duration(to: clock.now) >= .seconds(1.5), "closed at the keep-alive timeout")
            }
        }
    }

    /// A body the server stops reading while it waits on the database (backpressure) is not the client's
    /// stall: the body's deadline runs only while the server asks for bytes.
    @Test func aBodyTheServerIsNotReadingYetIsNotCutOff() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            try await fixture.application(settings).test(.live) { client in
                let port = try #require(client.port)
                // The webhook's first look-up waits 4 s behind a lock: twice the body timeout.
                let locked = Flag()
                let lock = Task {
                    try await fixture.database.client.withTransaction { connection in
                        try connection.query("LOCK TABLE hookline.webhooks IN ACCESS EXCLUSIVE MODE")
                        locked.set()
                        try connection.query("SELECT pg_sleep(4)")
                    }
                }
                try await eventually(within: .seconds(10)) { locked.isSet }
                let answer = try await LoopbackHTTP.with(port: port) { http in
                    try await http.post(
                        created.webhook.urlPath, .bytes(ByteBuffer(repeating: UInt8(ascii: "x"), count: 8 << 20)))
                }
                try await lock.value
                #expect(answer.status == 202, "the server's own wait did not count against the client")
            }
        }
    }
}
