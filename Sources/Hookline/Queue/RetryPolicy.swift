import Foundation

/// The retry policy of a cycle: how many attempts, and how long to wait between them.
public struct RetryPolicy: Sendable, Hashable {
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
}
