import Foundation

/// A job queued directly rather than from a webhook delivery (the tests queue jobs this way). Deliveries go
/// through ``JobQueue/enqueue(_:)``, which also claims idempotency keys and reads the cycle's policy.
public struct NewJob: Sendable {
    public var accountID: UUID
    public var cycleID: UUID?
    public var cycleVersion: Int?
    public var priority: Int16
    public var maxAttempts: Int
    public var body: Data

    public init(
        accountID: UUID, cycleID: UUID? = nil, cycleVersion: Int? = nil, priority: Int16 = 0, maxAttempts: Int = 6,
        body: Data = Data()
    ) {
        self.accountID = accountID
        self.cycleID = cycleID
        self.cycleVersion = cycleVersion
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.body = body
    }
}
