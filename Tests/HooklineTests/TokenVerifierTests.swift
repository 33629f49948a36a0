import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

@Suite("The token verifier")
struct TokenVerifierTests {
    struct Fixture {
        let database: MigratedDatabase
        let clock = TestClock()
        var store: OAuthClientStore { OAuthClientStore(database: database.client, now: clock.closure) }

        func verifier() -> TokenVerifier { TokenVerifier(database: database.client, now: clock.closure) }

        /// A verifier whose LISTEN connection is up, so that it caches; stop the listener when done.
        func listeningVerifier() async throws -> (TokenVerifier, PostgresListener) {
            let verifier = verifier()
            let listener = verifier.makeListener(connectionString: database.url)
            listener.start()
            // Setup, not a contract: the whole suite starting at once can keep the LISTEN connection waiting.
            try await eventually(within: .seconds(10)) { verifier.isListening }
            return (verifier, listener)
        }

        func token(account: UUID?, scope: OAuthScope, minutes: Int? = nil) async throws -> (IssuedToken, OAuthClient) {
            let created = try await store.create(account: account, scope: scope, expiresMinutes: minutes)
            return (try await store.issueToken(to: created.client), created.client)
        }
    }

    func withFixture(_ body: (Fixture) async throws -> Void) async throws {
        try await MigratedDatabase.with { database in try await body(Fixture(database: database)) }
    }

    @Test func aWebhookTokenIsValidOnlyForItsScopeAndItsAccount() async throws {
        try await withFixture { fixture in
            let account = try await fixture.database.makeAccount("a")
            let other = try await fixture.database.makeAccount("b")
            let (token, client) = try await fixture.token(account: account.id, scope: .webhook)
            let verifier = fixture.verifier()
            let verdict = try await verifier.verify(token: token.accessToken, scope: .webhook, account: account.id)
            guard case .valid(let grant) = verdict else {
                Issue.record("expected valid, got \(verdict)")
                return
            }
            #expect(grant.clientRowID == client.id)
            #expect(grant.accountID == account.id)
            #expect(
                try await verifier.verify(token: token.accessToken, scope: .webhook, account: other.id)
                    == .rejected(.otherAccount))
            #expect(
                try await verifier.verify(token: token.accessToken, scope: .mcp, account: account.id)
                    == .rejected(.wrongScope))
            #expect(
                try await verifier.verify(token: token.accessToken, scope: .api, account: nil)
                    == .rejected(.wrongScope))
        }
    }

    @Test func consoleTokensAreRefusedOnWebhooksAndAccountTokensOnTheAdminAPI() async throws {
        try await withFixture { fixture in
            let account = try await fixture.database.makeAccount()
            let (console, _) = try await fixture.token(account: nil, scope: .api)
            let (mcp, _) = try await fixture.token(account: account.id, scope: .mcp)
            let verifier = fixture.verifier()
            #expect(
                try await verifier.verify(token: console.accessToken, scope: .webhook, account: account.id)
                    == .rejected(.wrongScope))
            #expect(
                try await verifier.verify(token: mcp.accessToken, scope: .api, account: nil) == .rejected(.wrongScope))
            if case .valid = try await verifier.verify(token: console.accessToken, scope: .api, account: nil) {
            } else {
                Issue.record("a console token must be valid on the admin API")
            }
        }
    }

    @Test func expiryIsExactToTheSecond() async throws {
        try await withFixture { fixture in
            let account = try await fixture.database.makeAccount()
            let (token, _) = try await fixture.token(account: account.id, scope: .webhook, minutes: 2)
            #expect(token.expiresIn == 120)
            let verifier = fixture.verifier()
            fixture.clock.advance(by: 119)
            #expect(
                try await verifier.verify(token: token.accessToken, scope: .webhook, account: account.id)
                    != .rejected(.expired))
            fixture.clock.advance(by: 1)
            #expect(
                try await verifier.verify(token: token.accessToken, scope: .webhook, account: account.id)
                    == .rejected(.expired))
        }
    }

    @Test func headersWithoutBearerCredentialsAreMissingAndBadOnesMalformed() async throws {
        try await withFixture { (fixture: Fixture) async throws in
            let verifier = fixture.verifier()
            #expect(try await verifier.verify(authorization: nil, scope: .webhook, account: nil) == .rejected(.missing))
            #expect(
                try await verifier.verify(authorization: "Basic dXNlcjpwYXNz", scope: .webhook, account: nil)
                    == .rejected(.missing))
            for bad in ["Bearer", "Bearer ", "Bearer a b", "Bearer ä", "Bearer ===", "bearer {x}"] {
                #expect(
                    try await verifier.verify(authorization: bad, scope: .webhook, account: nil)
                        == .rejected(.malformed),
                    "\(bad)")
            }
            #expect(
                try await verifier.verify(
                    authorization: "bearer hlt_unknownToken-_~+/==", scope: .webhook, account: nil)
                    == .rejected(.unknown))
        }
    }

    @Test func aCachedTokenIsVerifiedWithoutReadingTheDatabase() async throws {
        try await withFixture { fixture in
            let account = try await fixture.database.makeAccount()
            let (token, _) = try await fixture.token(account: account.id, scope: .webhook)
            let (verifier, listener) = try await fixture.listeningVerifier()
            defer { listener.stop() }
            #expect(try await isValid(verifier, token, account.id))
            // Revoked behind the verifier's back (no NOTIFY): the cached record still answers, which shows
            // that verifying did not read the database.
            try await fixture.database.client.query("UPDATE hookline.access_tokens SET revoked_at = now()")
            #expect(try await isValid(verifier, token, account.id))
            // The notification that a real revocation sends evicts it.
            try await fixture.database.client.query(
                "SELECT pg_notify('hookline_auth', 'token:' || encode(token_hash, 'hex')) FROM hookline.access_tokens")
            try await eventually { try await !isValid(verifier, token, account.id) }
        }
    }

    @Test func withoutALiveListenerEveryVerificationReadsTheDatabase() async throws {
        try await withFixture { fixture in
            let account = try await fixture.database.makeAccount()
            let (token, _) = try await fixture.token(account: account.id, scope: .webhook)
            let verifier = fixture.verifier()  // never connected: no cache to trust
            #expect(try await isValid(verifier, token, account.id))
            try await fixture.database.client.query("UPDATE hookline.access_tokens SET revoked_at = now()")
            #expect(
                try await verifier.verify(token: token.accessToken, scope: .webhook, account: account.id)
                    == .rejected(.revoked))
        }
    }

    @Test func revokingOneTokenLeavesTheClientsOtherTokensWorking() async throws {
        try await withFixture { fixture in
            let account = try await fixture.database.makeAccount()
            let created = try await fixture.store.create(account: account.id, scope: .webhook)
            let first = try await fixture.store.issueToken(to: created.client)
            let second = try await fixture.store.issueToken(to: created.client)
            #expect(first.accessToken != second.accessToken)
            let (verifier, listener) = try await fixture.listeningVerifier()
            defer { listener.stop() }
            #expect(try await isValid(verifier, first, account.id))
            #expect(try await isValid(verifier, second, account.id))
            // Another client cannot revoke it.
            let intruder = try await fixture.store.create(account: account.id, scope: .webhook)
            try await fixture.store.revokeToken(first.accessToken, of: intruder.client)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await isValid(verifier, first, account.id))
            try await fixture.store.revokeToken(first.accessToken, of: created.client)
            try await eventually { try await !isValid(verifier, first, account.id) }
            #expect(try await isValid(verifier, second, account.id))
        }
    }

    @Test func revokingAClientEndsItsTokensAndItsLogins() async throws {
        try await withFixture { fixture in
            let account = try await fixture.database.makeAccount()
            let created = try await fixture.store.create(account: account.id, scope: .webhook)
            let token = try await fixture.store.issueToken(to: created.client)
            let (verifier, listener) = try await fixture.listeningVerifier()
            defer { listener.stop() }
            #expect(try await isValid(verifier, token, account.id))
            let clock = ContinuousClock()
            let start = clock.now
            try await fixture.store.revoke(clientID: created.client.clientID)
            try await eventually { try await !isValid(verifier, token, account.id) }
            #expect(start.duration(to: clock.now) < .seconds(1))
            #expect(
                try await fixture.store.authenticate(clientID: created.client.clientID, secret: created.clientSecret)
                    == nil)
        }
    }

    @Test func aClientAuthenticatesOnlyWithItsOwnSecret() async throws {
        try await withFixture { fixture in
            let account = try await fixture.database.makeAccount()
            let a = try await fixture.store.create(account: account.id, scope: .webhook)
            let b = try await fixture.store.create(account: account.id, scope: .mcp)
            #expect(
                try await fixture.store.authenticate(clientID: a.client.clientID, secret: a.clientSecret) == a.client)
            #expect(try await fixture.store.authenticate(clientID: a.client.clientID, secret: b.clientSecret) == nil)
            #expect(try await fixture.store.authenticate(clientID: "hlc_nobody", secret: a.clientSecret) == nil)
            #expect(a.clientSecret.count >= 43)  // 32 random bytes in base64url after the prefix
        }
    }

    func isValid(_ verifier: TokenVerifier, _ token: IssuedToken, _ account: UUID) async throws -> Bool {
        if case .valid = try await verifier.verify(token: token.accessToken, scope: .webhook, account: account) {
            return true
        }
        return false
    }

    /// A client keeps its newest `liveTokensPerClient` tokens: one more drops its oldest, from the database
    /// and from a listening verifier's cache. Without the bound, a client that fetched a token per request
    /// grew `access_tokens` by a row each time, for the tokens' lifetime.
    @Test func aClientKeepsItsNewestTokensOnly() async throws {
        try await withFixture { fixture in
            let account = try await fixture.database.makeAccount()
            let store = OAuthClientStore(
                database: fixture.database.client, now: fixture.clock.closure, liveTokensPerClient: 3)
            let created = try await store.create(account: account.id, scope: .webhook, expiresMinutes: nil)
            let (verifier, listener) = try await fixture.listeningVerifier()
            defer { listener.stop() }
            let valid = { (token: String) async throws -> Bool in
                if case .valid = try await verifier.verify(token: token, scope: .webhook, account: account.id) {
                    return true
                }
                return false
            }
            var tokens: [String] = []
            for _ in 0..<5 {
                fixture.clock.advance(by: 1)
                let token = try await store.issueToken(to: created.client).accessToken
                #expect(try await valid(token))
                tokens.append(token)
            }
            let rows = try await fixture.database.client.query(
                "SELECT count(*) FROM hookline.access_tokens WHERE client_id = \(created.client.id)")
            #expect(try rows[0].decode(Int.self, at: 0) == 3)
            try await eventually(within: .seconds(5)) {
                try await !valid(tokens[1])
            }
            #expect(try await !valid(tokens[0]))
            for token in tokens.suffix(3) {
                #expect(try await valid(token))
            }
        }
    }
}
