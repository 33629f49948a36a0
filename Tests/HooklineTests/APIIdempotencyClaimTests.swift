import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// A claim on an admin API `Idempotency-Key` whose request never answered holds off repeats for the store's
/// `staleClaim` (`hookline serve --api-idempotency-claim-seconds`), then a repeat takes it over.
@Suite("Admin API idempotency claims")
struct APIIdempotencyClaimTests {
    @Test func aClaimWithoutAnAnswerIsTakenOverAfterTheGivenTime() async throws {
        try await MigratedDatabase.with { database in
            let console = try await OAuthClientStore(database: database.client).create(account: nil, scope: .api)
            let client = console.client.id
            let hash = Data(repeating: 7, count: 32)
            let defaults = APIIdempotencyStore(database: database.client)
            let short = APIIdempotencyStore(database: database.client, staleClaim: .seconds(5))
            #expect(defaults.staleClaim == .seconds(300))

            guard case .fresh = try await defaults.claim(client: client, key: "k-1", requestHash: hash) else {
                Issue.record("the first claim is not fresh")
                return
            }
            // The request that claimed the key died ten seconds ago, without an answer.
            try await database.client.query(
                """
                UPDATE hookline.api_idempotency_keys SET created_at = now() - interval '10 seconds'
                WHERE client_id = \(client) AND key = 'k-1'
                """)
            #expect(try await defaults.claim(client: client, key: "k-1", requestHash: hash) == .inProgress)
            guard case .fresh = try await short.claim(client: client, key: "k-1", requestHash: hash) else {
                Issue.record("a claim older than staleClaim is not taken over")
                return
            }
            #expect(try await short.claim(client: client, key: "k-1", requestHash: hash) == .inProgress)
        }
    }
}
