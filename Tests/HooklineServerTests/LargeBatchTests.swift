import AsyncHTTPClient
import Foundation
import Hookline
import Hummingbird
import HummingbirdTesting
import NIOCore
import Postgres
import TestSupport
import Testing

@testable import HooklineServer

@Suite("Batches within what one protocol message carries")
struct LargeBatchTests {
    /// 110 bodies of 10 MiB arrive all but their last byte, then finish at the same instant, with small
    /// deliveries among them: together they are more than one PostgreSQL message can carry (about 1 GB), so
    /// batches are bounded in bytes, and every delivery is stored.
    @Test func aHundredAndTenLargeBodiesFinishingTogetherAreAllStored() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let size = 10 << 20
            let app = fixture.application { $0.maxBufferedBytes = 2 << 30 }
            try await app.test(.live) { client in
                let port = try #require(client.port)
                try await LoopbackHTTP.with(port: port, connections: 200) { http in
                    let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: size - 1)
                    var gates: [AsyncStream<ByteBuffer>.Continuation] = []
                    let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                        for _ in 0..<110 {
                            let (stream, gate) = AsyncStream.makeStream(of: ByteBuffer.self)
                            gate.yield(chunk)
                            gates.append(gate)
                            group.addTask {
                                try await http.post(
                                    created.webhook.urlPath, .stream(stream, length: .known(Int64(size))),
                                    timeout: .seconds(300)
                                ).status
                            }
                        }
                        // Let every body but its last byte arrive, then finish them all at once.
                        try await Task.sleep(for: .seconds(5))
                        for gate in gates {
                            gate.yield(ByteBuffer(string: "x"))
                            gate.finish()
                        }
                        for index in 0..<20 {
                            group.addTask {
                                try await http.post(created.webhook.urlPath, #"{"small":\#(index)}"#).status
                            }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    #expect(statuses.count == 130)
                    #expect(
                        statuses.allSatisfy { $0 == 202 },
                        "statuses: \(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")
                }
            }
            #expect(try await fixture.jobCount(created.webhook.id) == 130)
            let large = try await fixture.database.client.query(
                "SELECT count(*) FROM hookline.jobs WHERE webhook_id = \(created.webhook.id) AND octet_length(body) = \(size)"
            )
            #expect(try large[0].decode(Int.self, at: 0) == 110)
        }
    }

    /// Deliveries that gather while a batch commits go in batches of at most `maxBatchBytes` (the first of a
    /// batch always goes).
    @Test func batchesAreBoundedInBytes() async throws {
        try await ServerFixture.run { fixture in
            let (created, account, cycle) = try await fixture.webhook(.none)
            let enqueuer = BatchingEnqueuer(
                database: fixture.database.client, maxBatchBytes: 1 << 20, window: .milliseconds(500),
                metrics: IngressMetrics())
            let body = Data(repeating: UInt8(ascii: "x"), count: 300_000)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        _ = try await enqueuer.enqueue(
                            Delivery(
                                webhookID: created.webhook.id, accountID: account.id, cycleID: cycle.id,
                                headers: PostgresJSON(rawJSON: "{}"), contentType: nil, body: body,
                                idempotencyKey: nil, receivedAt: Date()))
                    }
                }
                try await group.waitForAll()
            }
            // Rows committed by one transaction share its xmin.
            let rows = try await fixture.database.client.query(
                """
                SELECT count(*)::bigint FROM hookline.jobs WHERE webhook_id = \(created.webhook.id) GROUP BY xmin::text
                """)
            let sizes = try rows.map { try $0.decode(Int.self, at: 0) }
            #expect(sizes.reduce(0, +) == 20)
            #expect(sizes.allSatisfy { $0 <= 3 }, "batches of at most 1 MiB of 300 kB bodies: \(sizes)")
        }
    }

    @Test func aBodyLimitLargerThanTheProtocolCarriesIsRefusedAtStart() {
        var settings = ServerSettings()
        settings.maxBodyBytes = 1 << 30
        settings.maxBufferedBytes = 2 << 30
        #expect(settings.problem?.contains("protocol message") == true)
        settings.maxBodyBytes = ServerSettings.largestStorableBody
        #expect(settings.problem == nil)
    }
}
