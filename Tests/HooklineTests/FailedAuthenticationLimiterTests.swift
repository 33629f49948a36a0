import Foundation
import TestSupport
import Testing

@testable import Hookline

@Suite("The brake on failed client authentications")
struct FailedAuthenticationLimiterTests {
    @Test func tenFailuresInAMinuteBrakeThatSourceUntilTheOldestAgesOut() {
        let clock = TestClock()
        let limiter = FailedAuthenticationLimiter(maxFailures: 10, window: 60, now: clock.closure)
        for _ in 0..<9 {
            limiter.recordFailure(clientID: "hlc_x", source: "10.0.0.1")
            clock.advance(by: 1)
        }
        #expect(limiter.retryAfter(clientID: "hlc_x", source: "10.0.0.1") == nil)
        limiter.recordFailure(clientID: "hlc_x", source: "10.0.0.1")
        // The first failure was 9 s ago: 51 s until it leaves the window.
        #expect(limiter.retryAfter(clientID: "hlc_x", source: "10.0.0.1") == 51)
        clock.advance(by: 51)
        #expect(limiter.retryAfter(clientID: "hlc_x", source: "10.0.0.1") == nil)
    }

    @Test func anAttackerCannotLockTheRealClientOutFromAnotherAddress() {
        let limiter = FailedAuthenticationLimiter(maxFailures: 3, window: 60)
        for _ in 0..<50 { limiter.recordFailure(clientID: "hlc_x", source: "attacker") }
        #expect(limiter.retryAfter(clientID: "hlc_x", source: "attacker") != nil)
        #expect(limiter.retryAfter(clientID: "hlc_x", source: "real-client") == nil)
        #expect(limiter.retryAfter(clientID: "hlc_y", source: "attacker") == nil)
    }

    @Test func aSuccessClearsTheFailures() {
        let limiter = FailedAuthenticationLimiter(maxFailures: 2, window: 60)
        limiter.recordFailure(clientID: "hlc_x", source: "a")
        limiter.recordSuccess(clientID: "hlc_x", source: "a")
        limiter.recordFailure(clientID: "hlc_x", source: "a")
        #expect(limiter.retryAfter(clientID: "hlc_x", source: "a") == nil)
    }

    /// At `maxKeys`, keys whose failures have all left the window go first; the brakes still in force stay.
    @Test func aFullLimiterDropsExpiredKeysFirst() {
        let clock = TestClock()
        let limiter = FailedAuthenticationLimiter(maxFailures: 1, window: 60, maxKeys: 3, now: clock.closure)
        limiter.recordFailure(clientID: "hlc_old", source: "a")
        limiter.recordFailure(clientID: "hlc_old", source: "b")
        clock.advance(by: 50)
        limiter.recordFailure(clientID: "hlc_recent", source: "a")
        clock.advance(by: 20)
        // hlc_old's failures are 70 s old: expired, and dropped to make room; hlc_recent's brake (20 s old)
        // stays.
        limiter.recordFailure(clientID: "hlc_new", source: "a")
        #expect(limiter.keyCount == 2)
        #expect(limiter.retryAfter(clientID: "hlc_recent", source: "a") == 40)
        #expect(limiter.retryAfter(clientID: "hlc_new", source: "a") == 60)
    }

    /// At `maxKeys` recent keys, a new one empties the limiter: memory stays bounded, and the worst a flood
    /// of addresses can do is lift the brakes (each new source starts with a clean slate anyway).
    @Test func aLimiterFullOfRecentKeysStartsOver() {
        let clock = TestClock()
        let limiter = FailedAuthenticationLimiter(maxFailures: 1, window: 60, maxKeys: 3, now: clock.closure)
        for source in ["a", "b", "c"] { limiter.recordFailure(clientID: "hlc_x", source: source) }
        #expect(limiter.keyCount == 3)
        #expect(limiter.retryAfter(clientID: "hlc_x", source: "a") != nil)
        limiter.recordFailure(clientID: "hlc_x", source: "d")
        #expect(limiter.keyCount == 1)
        #expect(limiter.retryAfter(clientID: "hlc_x", source: "a") == nil)
        #expect(limiter.retryAfter(clientID: "hlc_x", source: "d") != nil)
    }
}
