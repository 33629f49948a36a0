import Foundation
import Testing

@testable import HooklineServer

/// The per-account token buckets, and the bound on how many the ingress keeps.
@Suite("The per-account rate limit")
struct AccountRateLimiterTests {
    /// At the bound, a bucket that is not full is kept: flooding the ingress with other accounts' deliveries
    /// does not lift an account's limit.
    @Test func aFullLimiterKeepsTheBucketsStillInUse() {
        // One token, refilled every 100 s: nothing refills during the test, however slow the machine.
        let limiter = AccountRateLimiter(rate: 0.01, maxEntries: 2)
        let limited = UUID()
        #expect(limiter.take(limited) == nil)
        #expect(limiter.take(limited) == 100)
        #expect(limiter.take(UUID()) == nil)
        #expect(limiter.take(UUID()) == nil)
        #expect(limiter.bucketCount == 3, "neither bucket was full, so neither was dropped")
        #expect(limiter.take(limited) != nil)
    }

    /// At the bound, buckets that have filled up again (the same as none) are dropped.
    @Test func aFullLimiterDropsBucketsThatHaveFilledUpAgain() async throws {
        // A thousand tokens, one refilled every millisecond.
        let limiter = AccountRateLimiter(rate: 1000, maxEntries: 2)
        #expect(limiter.take(UUID()) == nil)
        #expect(limiter.take(UUID()) == nil)
        try await Task.sleep(for: .milliseconds(20))
        #expect(limiter.take(UUID()) == nil)
        #expect(limiter.bucketCount == 1, "both earlier buckets had filled up again")
    }
}
