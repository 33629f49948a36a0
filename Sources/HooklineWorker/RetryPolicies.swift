import Foundation
import Hookline
import Postgres
import Synchronization

/// The retry policy of each cycle (its definition's `retry`), read once per cycle version.
final class RetryPolicies: Sendable {
    private let database: PostgresClient
    private let cache = Mutex([String: RetryPolicy]())

    init(database: PostgresClient) { self.database = database }

    /// The `retry` object of a definition; keys left out keep their defaults.
    struct Partial: Decodable {
        var maxAttempts: Int?
        var backoffSeconds: Double?
        var maxBackoffSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case maxAttempts = "max_attempts"
            case backoffSeconds = "backoff_seconds"
            case maxBackoffSeconds = "max_backoff_seconds"
        }
    }

    func policy(for job: ClaimedJob) async throws -> RetryPolicy {
        guard let cycle = job.cycleID else { return .default }
        let key = "\(cycle.lowercased)/\(job.cycleVersion ?? 0)"
        if let known = cache.withLock({ $0[key] }) { return known }
        let rows = try await database.query(
            "SELECT coalesce(definition -> 'retry', '{}') FROM hookline.cycles WHERE id = \(cycle)")
        var policy = RetryPolicy.default
        if let row = rows.first, let partial = try? row.decode(PostgresJSON.self, at: 0).decode(Partial.self) {
            policy.maxAttempts = partial.maxAttempts ?? policy.maxAttempts
            policy.backoffSeconds = partial.backoffSeconds ?? policy.backoffSeconds
            policy.maxBackoffSeconds = partial.maxBackoffSeconds ?? policy.maxBackoffSeconds
        }
        cache.withLock { $0[key] = policy }
        return policy
    }
}
