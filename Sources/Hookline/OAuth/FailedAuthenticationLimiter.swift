import Foundation
import Synchronization

/// Slows down guessing: after `maxFailures` failed client authentications for one client ID from one
/// source address within `window`, further attempts from that source are refused (429) until the oldest
/// failure leaves the window.
///
/// Keyed by client ID *and* source, so an attacker hammering a client ID from their own address cannot lock
/// the real client out from its address; the longest anyone waits is `window`. In memory, per instance: it
/// is a brake, not an accounting system (the secrets carry 256 bits; guessing is hopeless anyway).
///
/// Bounded: the token endpoint records only client IDs of our shape (24 bytes) and addresses, at most
/// `maxFailures` times for at most `maxKeys` keys; failures older than `window` are dropped when their key is
/// next touched, and every expired key when the limiter is full.
public final class FailedAuthenticationLimiter: Sendable {
    struct Key: Hashable {
        var clientID: String
        var source: String
    }

    public let maxFailures: Int
    public let window: TimeInterval
    private let maxKeys: Int
    private let now: @Sendable () -> Date
    private let failures = Mutex([Key: [Date]]())

    /// Failures within a minute before the brake holds (`hookline serve --auth-failures-per-minute`).
    public static let defaultMaxFailures = 10
    /// Client ID and source pairs kept at most (`hookline serve --auth-failure-keys`).
    public static let defaultMaxKeys = 100_000

    public init(
        maxFailures: Int = defaultMaxFailures, window: TimeInterval = 60, maxKeys: Int = defaultMaxKeys,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.maxFailures = maxFailures
        self.window = window
        self.maxKeys = maxKeys
        self.now = now
    }

    /// Seconds to wait before trying again, or `nil` when an attempt may go ahead.
    public func retryAfter(clientID: String, source: String) -> Int? {
        let now = now()
        return failures.withLock { failures -> Int? in
            let key = Key(clientID: clientID, source: source)
            let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[key] = recent.isEmpty ? nil : recent
            guard recent.count >= maxFailures, let oldest = recent.first else { return nil }
            return max(1, Int((window - now.timeIntervalSince(oldest)).rounded(.up)))
        }
    }

    /// Counts a failed authentication.
    public func recordFailure(clientID: String, source: String) {
        let now = now()
        failures.withLock { failures in
            if failures.count >= maxKeys {
                failures = failures.filter { $0.value.contains { now.timeIntervalSince($0) < window } }
                if failures.count >= maxKeys { failures.removeAll() }
            }
            let key = Key(clientID: clientID, source: source)
            var recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            recent.append(now)
            failures[key] = Array(recent.suffix(maxFailures))
        }
    }

    /// How many client ID and source pairs have failures on record.
    var keyCount: Int { failures.withLock { $0.count } }

    /// Forgets the failures of a client ID and source that just authenticated.
    public func recordSuccess(clientID: String, source: String) {
        _ = failures.withLock { $0.removeValue(forKey: Key(clientID: clientID, source: source)) }
    }
}
