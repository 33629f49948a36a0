import Foundation
import Synchronization

/// A token bucket per account: `rate` requests a second on average, bursts up to `burst`. In memory, per
/// instance: with N ingress instances an account gets up to N times the rate.
///
/// Only accounts whose deliveries authenticated have buckets, and a bucket that has filled up again is the
/// same as none: when `maxEntries` buckets exist, the full ones are dropped.
final class AccountRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    private let buckets = Mutex([UUID: Bucket]())

    private let maxEntries: Int

    /// Buckets at most (`hookline serve --account-rate-buckets`).
    static let defaultMaxEntries = 100_000

    init(rate: Double, burst: Double? = nil, maxEntries: Int = defaultMaxEntries) {
        self.rate = rate
        self.burst = max(1, burst ?? rate)
        self.maxEntries = maxEntries
    }

    /// How many accounts have a bucket.
    var bucketCount: Int { buckets.withLock { $0.count } }

    /// Takes one token; `nil` when the request may go ahead, else the seconds until a token is there.
    func take(_ account: UUID) -> Int? {
        let now = ContinuousClock.now
        return buckets.withLock { buckets -> Int? in
            if buckets[account] == nil, buckets.count >= maxEntries {
                buckets = buckets.filter {
                    $0.value.tokens + $0.value.updated.duration(to: now) / .seconds(1) * rate < burst
                }
            }
            var bucket = buckets[account] ?? Bucket(tokens: burst, updated: now)
            let elapsed = bucket.updated.duration(to: now) / .seconds(1)
            bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
            bucket.updated = now
            defer { buckets[account] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }
}
