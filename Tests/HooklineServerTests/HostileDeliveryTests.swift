import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hookline
import Hummingbird
import HummingbirdTesting
import NIOCore
import Postgres
import TestSupport
import Testing

@testable import HooklineServer

@Suite("Hostile deliveries")
struct HostileDeliveryTests {
    /// An idempotency key of one letter and 20,000 combining marks (one Character, 40 KB of UTF-8), sent
    /// together with ordinary deliveries: everyone is stored, the long key deduplicates, and a second long key
    /// that shares its first 255 bytes is a different delivery.
    @Test func aHugeIdempotencyKeyIsStoredAsItsHashAndFailsNoOne() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let path = created.webhook.urlPath
            // Combining marks in a pseudo-random order, so that PostgreSQL cannot compress the key below its
            // index's limit.
            var state: UInt32 = 12345
            let marks = (0..<20_000).map { _ -> Character in
                state = state &* 1_103_515_245 &+ 12345
                return Character(Unicode.Scalar(0x300 + (state >> 16) % 0x70)!)
            }
            let long = "a" + String(marks)
            #expect(long.count == 1 && long.utf8.count == 40_001)
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                try await LoopbackHTTP.with(port: port) { http in
                    let answers = try await withThrowingTaskGroup(of: (Int, LoopbackHTTP.Answer).self) { group in
                        for index in 0..<40 {
                            group.addTask {
                                let headers = index == 20 ? [("Idempotency-Key", long)] : []
                                return (index, try await http.post(path, #"{"n":\#(index)}"#, headers: headers))
                            }
                        }
                        return try await group.reduce(into: [Int: LoopbackHTTP.Answer]()) { $0[$1.0] = $1.1 }
                    }
                    #expect(answers.values.allSatisfy { $0.status == 202 }, "\(answers.values.map(\.status))")
                    let first = try #require(answers[20]?.jobID)
                    let repeated = try await http.post(path, "{}", headers: [("Idempotency-Key", long)])
                    #expect(repeated.status == 200)
                    #expect(repeated.jobID == first)
                    let other = try await http.post(path, "{}", headers: [("Idempotency-Key", long + "b")])
                    #expect(other.status == 202, "a different key, however long the shared prefix")
                }
            }
            let keys = try await fixture.database.client.query(
                "SELECT max(octet_length(key)) FROM hookline.idempotency_keys WHERE webhook_id = \(created.webhook.id)")
            #expect(try keys[0].decode(Int.self, at: 0) <= 255)
        }
    }

    /// A signed delivery id decides repeats before an unsigned `Idempotency-Key`: replaying a signed delivery
    /// with a fresh header stores nothing new.
    @Test func aReplayedSignedDeliveryIsARepeatWhateverItsIdempotencyKey() async throws {
        try await ServerFixture.run { fixture in
            let (standard, _, _) = try await fixture.webhook(.standardWebhooks)
            let (stripe, _, _) = try await fixture.webhook(.stripe)
            let now = Int(fixture.clock.now.timeIntervalSince1970)
            try await fixture.application().test(.live) { client in
                let body = #"{"id":"evt_1","type":"invoice.paid"}"#
                var signed = Signing.standardWebhooks(
                    secret: try #require(standard.secret), id: "msg_1", timestamp: now, body: body)
                signed[HTTPField.Name("Idempotency-Key")!] = "first"
                let first = try await client.deliver(standard.webhook, body, headers: signed)
                #expect(first.status == .accepted)
                signed[HTTPField.Name("Idempotency-Key")!] = "second"
                let replay = try await client.deliver(standard.webhook, body, headers: signed)
                #expect(replay.status == .ok)
                #expect(replay.jobID == first.jobID)

                var stripeSigned = Signing.stripe(secret: try #require(stripe.secret), timestamp: now, body: body)
                stripeSigned[HTTPField.Name("Idempotency-Key")!] = "one"
                let once = try await client.deliver(stripe.webhook, body, headers: stripeSigned)
                #expect(once.status == .accepted)
                stripeSigned[HTTPField.Name("Idempotency-Key")!] = "two"
                let again = try await client.deliver(stripe.webhook, body, headers: stripeSigned)
                #expect(again.status == .ok)
                #expect(again.jobID == once.jobID)
            }
        }
    }

    /// A batch whose statement fails on one delivery's data is tried again one delivery at a time: only the
    /// faulty one fails (a NUL byte, which PostgreSQL's text refuses).
    @Test func oneFaultyDeliveryFailsAloneNotItsBatch() async throws {
        try await ServerFixture.run { fixture in
            let (created, account, cycle) = try await fixture.webhook(.none)
            let enqueuer = BatchingEnqueuer(database: fixture.database.client, metrics: IngressMetrics())
            let results = await withTaskGroup(of: (Int, Result<EnqueueOutcome, any Error>).self) { group in
                for index in 0..<30 {
                    group.addTask {
                        let delivery = Delivery(
                            webhookID: created.webhook.id, accountID: account.id, cycleID: cycle.id,
                            headers: PostgresJSON(rawJSON: "{}"),
                            contentType: index == 7 ? "text/plain\u{0}" : "application/json",
                            body: Data("{}".utf8), idempotencyKey: nil, receivedAt: Date())
                        do {
                            return (index, .success(try await enqueuer.enqueue(delivery)))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [Int: Result<EnqueueOutcome, any Error>]()) { $0[$1.0] = $1.1 }
            }
            for (index, result) in results {
                switch result {
                case .success: #expect(index != 7, "the faulty delivery cannot be stored")
                case .failure(let error):
                    #expect(index == 7, "delivery \(index) failed with its batch: \(error)")
                    let postgres = try #require(error as? PostgresError)
                    #expect(JobQueue.isUnstorable(postgres), "answered 400, not 503: \(postgres)")
                }
            }
            #expect(try await fixture.jobCount(created.webhook.id) == 29)
        }
    }

    /// Bodies held at once have a budget: past it a delivery gets 503 with `Retry-After`, and once the held
    /// bodies are answered, deliveries go through again.
    @Test func bodiesOverTheBufferBudgetGet503UntilItFrees() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let app = fixture.application {
                $0.maxBodyBytes = 600_000
                $0.maxBufferedBytes = 1_000_000
            }
            try await app.test(.live) { client in
                let port = try #require(client.port)
                try await LoopbackHTTP.with(port: port) { http in
                    // One body of 600 kB arrives all but its last byte, and waits.
                    let (stream, gate) = AsyncStream.makeStream(of: ByteBuffer.self)
                    gate.yield(ByteBuffer(repeating: UInt8(ascii: "a"), count: 599_999))
                    let held = Task {
                        try await http.post(created.webhook.urlPath, .stream(stream, length: .known(Int64(600_000))))
                    }
                    // Once the held body is in (the gauge shows it), a 500 kB delivery does not fit.
                    try await eventually(within: .seconds(30)) { try await http.bufferedBytes() >= 599_999 }
                    let refused = try await http.post(
                        created.webhook.urlPath, .bytes(ByteBuffer(repeating: UInt8(ascii: "b"), count: 500_000)))
                    #expect(refused.status == 503)
                    #expect(refused.headers.first(name: "Retry-After") == "1")
                    gate.yield(ByteBuffer(string: "a"))
                    gate.finish()
                    #expect(try await held.value.status == 202)
                    let later = try await http.post(
                        created.webhook.urlPath, .bytes(ByteBuffer(repeating: UInt8(ascii: "c"), count: 500_000)))
                    #expect(later.status == 202, "the budget was given back")
                }
            }
        }
    }

    /// The account's rate is spent only by deliveries that authenticated: unsigned requests to a signed
    /// webhook cannot use it up.
    @Test func unauthenticatedRequestsDoNotSpendTheAccountsRate() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.github, settings: .init(secret: "s3cr3t"))
            let app = fixture.application { $0.accountRateLimit = 0.01 }
            try await app.test(.live) { client in
                for _ in 0..<5 {
                    let unsigned = try await client.deliver(created.webhook, "{}")
                    #expect(unsigned.status == .unauthorized)
                }
                let body = #"{"ok":true}"#
                let signed = try await client.deliver(
                    created.webhook, body, headers: Signing.github(secret: "s3cr3t", body: body, delivery: "d-1"))
                #expect(signed.status == .accepted, "the unsigned requests spent none of the account's rate")
                let second = try await client.deliver(
                    created.webhook, body, headers: Signing.github(secret: "s3cr3t", body: body, delivery: "d-2"))
                #expect(second.status == .tooManyRequests, "an authenticated delivery does spend it")
            }
        }
    }
}
