import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

@testable import Hookline

@Suite("Caches and brakes stay bounded")
struct BoundedCacheTests {
    @Test func cachedEntriesExpireAndTheCacheHoldsAtMostItsLimit() async throws {
        let cache = NotifiedCache<Int, String>(maxEntries: 3, timeToLive: .milliseconds(200))
        cache.connected()
        let loads = Atomic(0)
        func value(_ key: Int) async throws -> String? {
            try await cache.value(for: key) {
                loads.add(1, ordering: .relaxed)
                return "v\(key)"
            }
        }
        _ = try await value(1)
        _ = try await value(1)
        #expect(loads.load(ordering: .relaxed) == 1, "a fresh entry is served from memory")
        try await Task.sleep(for: .milliseconds(300))
        _ = try await value(1)
        #expect(loads.load(ordering: .relaxed) == 2, "an expired entry is read again")
        for key in 0..<1000 { _ = try await value(key) }
        #expect(cache.count <= 3)
    }

    /// What the ingress's fast path reads without waiting: a value only while LISTEN is up, fresh, and not
    /// evicted; a row known to be absent as such.
    @Test func aCachedValueIsReadWithoutWaitingOnlyWhileItCanBeTrusted() async throws {
        let cache = NotifiedCache<Int, String>(maxEntries: 10, timeToLive: .milliseconds(200))
        _ = try await cache.value(for: 1) { "v1" }
        #expect(cache.cachedValue(for: 1) == nil, "LISTEN down: nothing is trusted")
        cache.connected()
        #expect(cache.cachedValue(for: 1) == nil, "not read yet")
        _ = try await cache.value(for: 1) { "v1" }
        _ = try await cache.value(for: 2) { nil }
        #expect(cache.cachedValue(for: 1) == .some("v1"))
        #expect(cache.cachedValue(for: 2) == .some(nil), "a row known to be absent")
        cache.evict(1)
        #expect(cache.cachedValue(for: 1) == nil, "evicted")
        try await Task.sleep(for: .milliseconds(300))
        #expect(cache.cachedValue(for: 2) == nil, "expired")
        _ = try await cache.value(for: 3) { "v3" }
        cache.disconnected()
        #expect(cache.cachedValue(for: 3) == nil, "LISTEN lost")
    }

    @Test func tokensOfAnotherShapeAreRefusedWithoutAReadOrAnEntry() async throws {
        try await MigratedDatabase.with { database in
            let verifier = TokenVerifier(database: database.client)
            verifier.handle(.connected)
            for token in ["nope", "hlt_" + String(repeating: "a", count: 4000), "hlt_short"] {
                let verdict = try await verifier.verify(token: token, scope: .webhook, account: nil)
                #expect(verdict == .rejected(.unknown))
            }
            #expect(verifier.cachedRecords == 0, "nothing remembered for a token that cannot be ours")
            let shaped = Secrets.generate(prefix: Secrets.tokenPrefix, bytes: 32)
            #expect(Secrets.isTokenShaped(shaped))
            let verdict = try await verifier.verify(token: shaped, scope: .webhook, account: nil)
            #expect(verdict == .rejected(.unknown))
            #expect(verifier.cachedRecords == 1, "an unknown token of our shape is remembered, for a while")
        }
    }

    @Test func credentialShapesMatchWhatIsIssued() {
        for _ in 0..<100 {
            #expect(Secrets.isClientIDShaped(Secrets.generate(prefix: Secrets.clientIDPrefix, bytes: 15)))
            #expect(Secrets.isTokenShaped(Secrets.generate(prefix: Secrets.tokenPrefix, bytes: 32)))
        }
        #expect(!Secrets.isClientIDShaped("hlc_" + String(repeating: "a", count: 21)))
        #expect(!Secrets.isClientIDShaped("hlx_" + String(repeating: "a", count: 20)))
        #expect(!Secrets.isTokenShaped("hlt_" + String(repeating: "=", count: 43)))
    }
}
