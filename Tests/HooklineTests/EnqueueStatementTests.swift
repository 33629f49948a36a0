import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// `JobQueue.enqueue` stores a batch with one of two statements: the jobs alone when no delivery has an
/// idempotency key, and with the keys' work otherwise. Both answer each delivery in order.
@Suite("The ingress's batch statements")
struct EnqueueStatementTests {
    @Test func aBatchWithoutKeysIsStoredInOrderAndHeldOnAStoppedCycle() async throws {
        try await MigratedDatabase.with { database in
            let (webhook, cycle) = try await Self.webhook(database)
            let queue = JobQueue(database: database.client)
            let stored = try await queue.enqueue((1...3).map { Self.delivery(webhook, "\($0)", key: nil) })
            let ids = stored.outcomes.compactMap { outcome -> Int64? in
                guard case .accepted(let id)? = outcome else { return nil }
                return id
            }
            #expect(ids.count == 3 && ids == ids.sorted(), "\(stored.outcomes)")
            #expect(stored.madeJobsAvailable)
            let bodies = try await database.client.query(
                "SELECT convert_from(body, 'UTF8') FROM hookline.jobs WHERE webhook_id = \(webhook.id) ORDER BY id"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(bodies == ["1", "2", "3"])

            try await CycleStore(database: database.client).setActive(cycle, false)
            let held = try await queue.enqueue([Self.delivery(webhook, "4", key: nil)])
            #expect(!held.madeJobsAvailable, "a stopped cycle's job is held")
        }
    }

    @Test func aBatchWithSomeKeysFindsRepeatsAndStoresTheRest() async throws {
        try await MigratedDatabase.with { database in
            let (webhook, _) = try await Self.webhook(database)
            let queue = JobQueue(database: database.client)
            let first = try await queue.enqueue([Self.delivery(webhook, "a", key: "k")])
            guard case .accepted(let firstID)? = first.outcomes.first else {
                Issue.record("not stored: \(first.outcomes)")
                return
            }
            let mixed = try await queue.enqueue([
                Self.delivery(webhook, "b", key: nil), Self.delivery(webhook, "c", key: "k"),
                Self.delivery(webhook, "d", key: nil),
            ])
            #expect(mixed.outcomes.count == 3)
            if case .accepted? = mixed.outcomes[0] {} else { Issue.record("b: \(mixed.outcomes)") }
            #expect(mixed.outcomes[1] == .duplicate(jobID: firstID))
            if case .accepted? = mixed.outcomes[2] {} else { Issue.record("d: \(mixed.outcomes)") }
        }
    }

    static func webhook(_ database: MigratedDatabase) async throws -> (Webhook, UUID) {
        let account = try await database.makeAccount()
        let cycle = try await CycleStore(database: database.client).create(
            account: account.id, definition: Array(#"{"name": "test", "steps": []}"#.utf8))
        let created = try await WebhookStore(database: database.client).create(
            account: account.id, cycle: cycle.id, scheme: .none)
        return (created.webhook, cycle.id)
    }

    static func delivery(_ webhook: Webhook, _ body: String, key: String?) -> Delivery {
        Delivery(
            webhookID: webhook.id, accountID: webhook.accountID, cycleID: webhook.cycleID,
            headers: PostgresJSON(rawJSON: "{}"), contentType: "text/plain", body: Data(body.utf8),
            idempotencyKey: key.map { "\(webhook.id.lowercased):\($0)" }, receivedAt: Date())
    }
}
