import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite("Bearer-protected routes over HTTP")
struct ProtectedRouteTests {
    @Test func theAdminAPITakesConsoleTokensAndRefusesAccountTokens() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount("Acme")
            let console = try await fixture.clients.create(account: nil, scope: .api)
            let webhook = try await fixture.clients.create(account: account.id, scope: .webhook)
            try await fixture.application().test(.live) { client in
                let consoleToken = try #require(
                    try await client.token(clientID: console.client.clientID, secret: console.clientSecret).accessToken)
                let webhookToken = try #require(
                    try await client.token(clientID: webhook.client.clientID, secret: webhook.clientSecret).accessToken)
                let listed = try await client.accounts(bearer: consoleToken)
                #expect(listed.status == .ok)
                #expect(String(buffer: listed.body).contains("Acme"))
                let refused = try await client.accounts(bearer: webhookToken)
                #expect(refused.status == .unauthorized)
                #expect(
                    refused.headers[.wwwAuthenticate]?.hasPrefix("Bearer realm=\"hookline\", error=\"invalid_token\"")
                        == true)
                #expect(refused.headers[.contentType] == "application/problem+json")
                #expect(refused.json["status"] as? Int == 401)
                let bare = try await client.accounts(bearer: nil)
                #expect(bare.status == .unauthorized)
                #expect(bare.headers[.wwwAuthenticate] == "Bearer realm=\"hookline\"")
                let garbage = try await client.accounts(bearer: "not a token")
                #expect(garbage.status == .unauthorized)
                #expect(garbage.headers[.wwwAuthenticate]?.contains("error=\"invalid_token\"") == true)
            }
        }
    }

    @Test func anExpiredTokenIsRefusedWith401() async throws {
        try await ServerFixture.run { fixture in
            let console = try await fixture.clients.create(account: nil, scope: .api, expiresMinutes: 1)
            try await fixture.application().test(.live) { client in
                let response = try await client.token(clientID: console.client.clientID, secret: console.clientSecret)
                #expect(response.json["expires_in"] as? Int == 60)
                let token = try #require(response.accessToken)
                fixture.clock.advance(by: 59)
                #expect(try await client.accounts(bearer: token).status == .ok)
                fixture.clock.advance(by: 1)
                let expired = try await client.accounts(bearer: token)
                #expect(expired.status == .unauthorized)
                #expect(expired.headers[.wwwAuthenticate]?.contains("error=\"invalid_token\"") == true)
                #expect(expired.json["detail"] as? String == "the access token expired")
                // A new token can be had at any time, and works.
                let fresh = try #require(
                    try await client.token(clientID: console.client.clientID, secret: console.clientSecret).accessToken)
                #expect(try await client.accounts(bearer: fresh).status == .ok)
            }
        }
    }

    @Test func revokingAClientKillsItsTokensWithinOneSecondOnASecondInstance() async throws {
        try await ServerFixture.run { fixture in
            let console = try await fixture.clients.create(account: nil, scope: .api)
            try await fixture.application().test(.live) { first in
                try await fixture.application().test(.live) { second in
                    let token = try #require(
                        try await first.token(clientID: console.client.clientID, secret: console.clientSecret)
                            .accessToken)
                    #expect(try await second.accounts(bearer: token).status == .ok)
                    #expect(try await first.accounts(bearer: token).status == .ok)
                    // Revoked where an operator would: the CLI's store, in another connection.
                    let clock = ContinuousClock()
                    let start = clock.now
                    try await fixture.clients.revoke(clientID: console.client.clientID)
                    try await eventually(within: .seconds(1)) {
                        try await second.accounts(bearer: token).status == .unauthorized
                    }
                    #expect(start.duration(to: clock.now) < .seconds(1))
                    #expect(try await first.accounts(bearer: token).status == .unauthorized)
                    let again = try await second.token(clientID: console.client.clientID, secret: console.clientSecret)
                    #expect(again.status == .unauthorized)
                }
            }
        }
    }

    @Test func healthAndReadiness() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
                // The probe gives the database two seconds; a fresh pool's first connection on a loaded CI
                // machine can take longer, so the test asks until it answers (only a real query says ready).
                try await eventually(within: .seconds(20)) {
                    let ready = try await client.execute(uri: "/readyz", method: .get)
                    return ready.status == .ok && ready.json["status"] as? String == "ready"
                }
            }
        }
    }

    @Test func neitherSecretsNorTokensAppearInTheDatabaseOrTheLogs() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let webhook = try await fixture.clients.create(account: account.id, scope: .webhook)
            let console = try await fixture.clients.create(account: nil, scope: .api)
            let issued = try await fixture.application { $0.accessLog = true }.test(.live) { client -> [String] in
                let a = try await client.token(clientID: webhook.client.clientID, secret: webhook.clientSecret)
                let b = try await client.token(basic: console.client.clientID, console.clientSecret)
                let tokenA = try #require(a.accessToken)
                let tokenB = try #require(b.accessToken)
                _ = try await client.accounts(bearer: tokenB)
                _ = try await client.accounts(bearer: tokenA)
                _ = try await client.form(
                    "/oauth/revoke", "token=\(tokenB)",
                    headers: [.authorization: basicHeader(console.client.clientID, console.clientSecret)])
                // A caller who puts its secret in the wrong field.
                _ = try await client.token(clientID: webhook.clientSecret, secret: "hls_x")
                return [tokenA, tokenB, basicHeader(console.client.clientID, console.clientSecret)]
            }
            let secrets = [webhook.clientSecret, console.clientSecret] + issued
            let dump = try await fixture.database.client.query(
                """
                SELECT string_agg(t::text, E'\\n') FROM (
                    SELECT o::text AS t FROM hookline.oauth_clients o
                    UNION ALL SELECT a::text FROM hookline.access_tokens a
                    UNION ALL SELECT a::text FROM hookline.accounts a) rows
                """)[0].decode(String.self, at: 0)
            #expect(!dump.isEmpty)
            let logs = fixture.logs.all
            #expect(logs.contains { $0.contains("/oauth/token") }, "the requests were logged")
            for secret in secrets {
                #expect(!dump.contains(secret), "a credential is stored in plain text")
                #expect(fixture.logs.lines(containing: secret).isEmpty, "a credential was logged")
            }
        }
    }
}
