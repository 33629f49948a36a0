import Foundation
import Testing

@testable import Hookline

/// The JSON that the CLI and the admin API print: snake_case keys and lowercase UUIDs, from the synthesized
/// conformances (the `UUID` overloads of `KeyedEncodingContainer`), present and absent optionals alike.
@Suite("Output encoding")
struct OutputEncodingTests {
    let id = UUID(uuidString: "9F349009-D86D-4F1E-B511-61778965942E")!
    let other = UUID(uuidString: "0A1B2C3D-D86D-4F1E-B511-61778965942E")!
    let date = Date(timeIntervalSince1970: 1_800_000_000)

    func object<T: Encodable>(_ value: T) throws -> [String: Any] {
        let data = try JSONEncoder.hookline().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func accountsAndCyclesPrintLowercaseIDs() throws {
        let account = try object(Account(id: id, name: "acme", createdAt: date))
        #expect(account["id"] as? String == "9f349009-d86d-4f1e-b511-61778965942e")
        #expect(account["created_at"] as? String == "2027-01-15T08:00:00Z")
        let cycle = try object(
            Cycle(id: id, accountID: other, name: "orders", version: 2, active: true, createdAt: date))
        #expect(cycle["id"] as? String == id.lowercased)
        #expect(cycle["account_id"] as? String == "0a1b2c3d-d86d-4f1e-b511-61778965942e")
    }

    @Test func optionalIDsAreLowercaseWhenPresentAndAbsentOtherwise() throws {
        var client = OAuthClient(
            id: id, clientID: "c1", accountID: other, scope: .webhook, description: "", tokenLifetimeSeconds: 60,
            createdAt: date, revokedAt: nil)
        var json = try object(client)
        #expect(json["account_id"] as? String == other.lowercased)
        #expect(json["client_id"] as? String == "c1")
        #expect(json["revoked_at"] == nil)
        client.accountID = nil
        json = try object(client)
        #expect(json["account_id"] == nil)

        let job = try object(
            JobSummary(
                id: 7, accountID: id, webhookID: other, cycleID: nil, state: .dead, attempt: 3, maxAttempts: 3,
                at: date, lastError: "boom"))
        #expect(job["account_id"] as? String == id.lowercased)
        #expect(job["webhook_id"] as? String == other.lowercased)
        #expect(job["cycle_id"] == nil)
        #expect(job["state"] as? String == "dead")
        #expect(job["max_attempts"] as? Int == 3)
    }
}
