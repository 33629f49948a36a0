import Foundation
import Postgres

/// A job a worker has claimed: what it needs to run the job's cycle.
public struct ClaimedJob: Sendable, Hashable {
    public var id: Int64
    public var accountID: UUID
    public var webhookID: UUID?
    public var cycleID: UUID?
    public var cycleVersion: Int?
    /// This run's attempt number, from 1.
    public var attempt: Int
    public var maxAttempts: Int
    public var nextStep: Int
    public var stepOutputs: PostgresJSON
    public var headers: PostgresJSON
    public var contentType: String?
    public var body: Data
    public var receivedAt: Date
    /// When the lease runs out unless it is extended.
    public var lockedUntil: Date
}

extension ClaimedJob {
    /// Reads a claim's row: id, account, webhook, cycle, cycle version, attempt, max attempts, next step,
    /// step outputs, headers, content type, body, received at, locked until.
    init(row: PostgresRow) throws {
        self.init(
            id: try row.decode(Int64.self, at: 0), accountID: try row.decode(UUID.self, at: 1),
            webhookID: try row.decode(UUID?.self, at: 2), cycleID: try row.decode(UUID?.self, at: 3),
            cycleVersion: try row.decode(Int?.self, at: 4), attempt: try row.decode(Int.self, at: 5),
            maxAttempts: try row.decode(Int.self, at: 6), nextStep: try row.decode(Int.self, at: 7),
            stepOutputs: try row.decode(PostgresJSON.self, at: 8), headers: try row.decode(PostgresJSON.self, at: 9),
            contentType: try row.decode(String?.self, at: 10), body: try row.decode(Data.self, at: 11),
            receivedAt: try row.decode(Date.self, at: 12), lockedUntil: try row.decode(Date.self, at: 13))
    }
}
