import Foundation
import Postgres

/// A job queued directly rather than from a webhook delivery: by an operator's tool, or by a test that needs
/// jobs in the queue. (Deliveries go through ``JobQueue/enqueue(_:)``, which also claims idempotency keys and
/// reads the cycle's policy.)
public struct NewJob: Sendable {
    public var accountID: UUID
    public var cycleID: UUID?
    public var cycleVersion: Int?
    public var priority: Int16
    public var maxAttempts: Int
    public var headers: PostgresJSON
    public var contentType: String?
    public var body: Data

    public init(
        accountID: UUID, cycleID: UUID? = nil, cycleVersion: Int? = nil, priority: Int16 = 0, maxAttempts: Int = 6,
        headers: PostgresJSON = PostgresJSON(rawJSON: "{}"), contentType: String? = nil, body: Data = Data()
    ) {
        self.accountID = accountID
        self.cycleID = cycleID
        self.cycleVersion = cycleVersion
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.headers = headers
        self.contentType = contentType
        self.body = body
    }
}
