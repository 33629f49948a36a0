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

/// The retry policy of a cycle: how many attempts, and how long to wait between them.
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// The wait after the first failure; it doubles with each further failure.
    public var backoffSeconds: Double
    /// The longest wait.
    public var maxBackoffSeconds: Double

    /// 6 attempts, 5 s doubling up to an hour: retries at about 5 s, 10 s, 20 s, 40 s and 80 s.
    public static let `default` = RetryPolicy(maxAttempts: 6, backoffSeconds: 5, maxBackoffSeconds: 3600)

    public init(maxAttempts: Int, backoffSeconds: Double, maxBackoffSeconds: Double) {
        self.maxAttempts = maxAttempts
        self.backoffSeconds = backoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
    }

    /// The wait after failed attempt number `attempt` (from 1): exponential, capped, with ±25 % jitter so
    /// that jobs that failed together do not all come back together.
    public func backoff(afterAttempt attempt: Int, jitter: Double = Double.random(in: -0.25...0.25)) -> Double {
        let exponential = backoffSeconds * pow(2, Double(max(0, attempt - 1)))
        return min(maxBackoffSeconds, exponential) * (1 + jitter)
    }

    enum CodingKeys: String, CodingKey {
        case maxAttempts = "max_attempts"
        case backoffSeconds = "backoff_seconds"
        case maxBackoffSeconds = "max_backoff_seconds"
    }
}
