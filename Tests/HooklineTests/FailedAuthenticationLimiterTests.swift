import Foundation
import Hookline
import TestSupport
import Testing

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
}
