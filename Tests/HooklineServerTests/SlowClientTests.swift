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
                // On a thread of its own: blocked on the cooperative pool (two threads here), the read held back
                // whatever the answer waited for.
                #expect(try await onOwnThread { http.read(timeout: .seconds(10)) }.hasPrefix("HTTP/1.1 202"))
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

    /// A body the server has refused (answered while it still arrives) is read and thrown away, but only for
    /// the body timeout in all, as nginx's `lingering_time` bounds it: trickled a byte at a time, it held a
    /// connection slot for as long as the client liked, with no credentials needed.
    @Test func aRefusedBodyIsDrainedForTheBodyTimeoutInAll() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application(settings).test(.live) { client in
                let port = try #require(client.port)
                let connection = try RawConnection(port: port)
                connection.send("POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
                #expect(try await onOwnThread { connection.read(timeout: .seconds(10)) }.hasPrefix("HTTP/1.1 404"))
                let clock = ContinuousClock()
                let refused = clock.now
                // A byte every 0.5 s: never the 2 s stall of the body timeout.
                while !connection.isClosedByServer, refused.duration(to: clock.now) < .seconds(8) {
                    connection.send("x")
                    try await Task.sleep(for: .milliseconds(500))
                }
                #expect(connection.isClosedByServer, "closed within the body timeout of the refusal, not after 8 s")
                #expect(refused.duration(to: clock.now) < .seconds(4))
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

    /// A request pipelined behind a delivery that is being stored waits on the server, not on its client: its
    /// body's deadline runs only once the delivery before it is answered, on either path.
    @Test(arguments: [true, false])
    func aRequestPipelinedBehindADeliveryBeingStoredIsNotCutOff(fastPath: Bool) async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let path = created.webhook.urlPath
            let app = fixture.application {
                settings(&$0)
                $0.webhookFastPath = fastPath
            }
            try await app.test(.live) { client in
                let port = try #require(client.port)
                if fastPath { _ = try await WebhookFastPathTests.untilTheFastPathTakes(path, port: port) }
                let lock = try await Self.holdStores(fixture, for: .seconds(4))  // twice the body timeout
                let connection = try RawConnection(port: port)
                let second = "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\""
                let first = try await WebhookFastPathTests.answers(
                    connection, sending: WebhookFastPathTests.post(path, "{}") + second, count: 1)
                #expect(first.map(\.status) == [202], "answered once stored, on a connection still open")
                let rest = try await WebhookFastPathTests.answers(connection, sending: ":1}", count: 1)
                #expect(rest.map(\.status) == [202], "the pipelined delivery was not cut off")
                try await lock.value
            }
        }
    }

    /// While a delivery is stored the server reads no further: a client that pipelines 64 MiB of requests
    /// behind it gets only what the sockets' buffers and one read take (not the 64 MiB), on either path, and
    /// also when the delivery asks to close the connection (what follows it is not read at all).
    @Test(arguments: [true, false], [false, true])
    func whatIsPipelinedBehindADeliveryBeingStoredIsNotReadWithoutBound(fastPath: Bool, asksToClose: Bool)
        async throws
    {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let path = created.webhook.urlPath
            try await fixture.application { $0.webhookFastPath = fastPath }.test(.live) { client in
                let port = try #require(client.port)
                if fastPath { _ = try await WebhookFastPathTests.untilTheFastPathTakes(path, port: port) }
                let lock = try await Self.holdStores(fixture, for: .seconds(3))
                let delivery = WebhookFastPathTests.post(path, "{}")
                let first = asksToClose ? WebhookFastPathTests.post(path, "{}", headers: "Connection: close\r\n") : ""
                let flood = Array(
                    (first + String(repeating: delivery, count: (64 << 20) / delivery.utf8.count + 1)).utf8)
                let connection = try RawConnection(port: port)
                let taken = try await onOwnThread { connection.sendWhileTaken(flood, patience: .seconds(1)) }
                #expect(taken < 24 << 20, "took \(taken) bytes of \(flood.count)")
                connection.reset()  // so that what was taken is not stored now
                try await lock.value
            }
        }
    }

    /// Holds every store (the batch's insert into `hookline.jobs`) for `duration` from when it returns.
    private static func holdStores(_ fixture: ServerFixture, for duration: Duration) async throws -> Task<
        Void, any Error
    > {
        let locked = Flag()
        let seconds = Double(duration.components.seconds)
        let lock = Task {
            try await fixture.database.client.withTransaction { connection in
                try connection.query("LOCK TABLE hookline.jobs IN EXCLUSIVE MODE")
                locked.set()
                try connection.query("SELECT pg_sleep(\(seconds))")
            }
        }
        try await eventually(within: .seconds(10)) { locked.isSet }
        return lock
    }
}
