import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite("POST /oauth/token and /oauth/revoke over HTTP")
struct TokenEndpointTests {
    @Test func credentialsInTheBodyGetABearerTokenWithTheDefaultLifetime() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let created = try await fixture.clients.create(account: account.id, scope: .webhook)
            try await fixture.application().test(.live) { client in
                let response = try await client.token(clientID: created.client.clientID, secret: created.clientSecret)
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[HTTPField.Name("Pragma")!] == "no-cache")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let json = response.json
                #expect(json["token_type"] as? String == "bearer")
                #expect(json["expires_in"] as? Int == 1_209_600)
                #expect(json["clientId"] as? String == created.client.clientID)
                #expect(json["scope"] as? String == "webhook")
                #expect(json["refresh_token"] == nil)
                let token = try #require(response.accessToken)
                #expect(token.hasPrefix("hlt_") && token.count >= 47)
            }
        }
    }

    @Test func httpBasicGetsATokenWithTheClientsOwnLifetime() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let created = try await fixture.clients.create(account: account.id, scope: .mcp, expiresMinutes: 5)
            try await fixture.application().test(.live) { client in
                let response = try await client.token(basic: created.client.clientID, created.clientSecret)
                #expect(response.status == .ok)
                #expect(response.json["expires_in"] as? Int == 300)
                #expect(response.json["scope"] as? String == "mcp")
                #expect(response.headers[.cacheControl] == "no-store")
                // Asking for exactly its own scope is fine.
                let scoped = try await client.token(
                    basic: created.client.clientID, created.clientSecret,
                    body: "grant_type=client_credentials&scope=mcp")
                #expect(scoped.status == .ok)
            }
        }
    }

    @Test func malformedRequestsAreInvalidRequest() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let c = try await fixture.clients.create(account: account.id, scope: .webhook)
            let id = c.client.clientID
            let secret = c.clientSecret
            try await fixture.application().test(.live) { client in
                var responses: [(String, TestResponse)] = []
                responses.append(
                    ("no grant_type", try await client.form("/oauth/token", "client_id=\(id)&client_secret=\(secret)")))
                responses.append(
                    (
                        "repeated",
                        try await client.token(clientID: id, secret: secret, extra: "&grant_type=client_credentials")
                    ))
                responses.append(
                    (
                        "json body",
                        try await client.form(
                            "/oauth/token", "{\"grant_type\":\"client_credentials\"}", contentType: "application/json")
                    ))
                responses.append(
                    ("bad escape", try await client.form("/oauth/token", "grant_type=client%ZZcredentials")))
                responses.append(
                    (
                        "both methods",
                        try await client.token(
                            basic: id, secret,
                            body: "grant_type=client_credentials&client_id=\(id)&client_secret=\(secret)")
                    ))
                responses.append(
                    (
                        "secret in URL",
                        try await client.form(
                            "/oauth/token?client_secret=\(secret)", "grant_type=client_credentials&client_id=\(id)")
                    ))
                for (name, response) in responses {
                    #expect(response.status == .badRequest, "\(name)")
                    #expect(response.json["error"] as? String == "invalid_request", "\(name)")
                    #expect(response.headers[.cacheControl] == "no-store", "\(name)")
                }
            }
        }
    }

    @Test func otherGrantTypesAreUnsupported() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let response = try await client.form("/oauth/token", "grant_type=password&username=a&password=b")
                #expect(response.status == .badRequest)
                #expect(response.json["error"] as? String == "unsupported_grant_type")
            }
        }
    }

    /// Every 401 carries a challenge (RFC 9110 §15.5.2 says it must), whichever way the client authenticated.
    @Test func badClientCredentialsAreInvalidClientWithABasicChallenge() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let c = try await fixture.clients.create(account: account.id, scope: .webhook)
            let revoked = try await fixture.clients.create(account: account.id, scope: .webhook)
            try await fixture.clients.revoke(clientID: revoked.client.clientID)
            try await fixture.application().test(.live) { client in
                let basic = try await client.token(basic: c.client.clientID, "hls_wrong")
                #expect(basic.status == .unauthorized)
                #expect(basic.json["error"] as? String == "invalid_client")
                #expect(basic.headers[.wwwAuthenticate] == "Basic realm=\"hookline\"")
                let body = try await client.token(clientID: c.client.clientID, secret: "hls_wrong")
                #expect(body.status == .unauthorized)
                #expect(body.json["error"] as? String == "invalid_client")
                #expect(body.headers[.wwwAuthenticate] == "Basic realm=\"hookline\"")
                let unknown = try await client.token(clientID: "hlc_nobody", secret: c.clientSecret)
                #expect(unknown.json["error"] as? String == "invalid_client")
                let gone = try await client.token(clientID: revoked.client.clientID, secret: revoked.clientSecret)
                #expect(gone.status == .unauthorized)
                #expect(gone.json["error"] as? String == "invalid_client")
                for answer in [unknown, gone] {
                    #expect(answer.headers[.wwwAuthenticate] == "Basic realm=\"hookline\"")
                }
                let missingSecret = try await client.form(
                    "/oauth/token", "grant_type=client_credentials&client_id=\(c.client.clientID)")
                #expect(missingSecret.status == .unauthorized)
                let none = try await client.form("/oauth/token", "grant_type=client_credentials")
                #expect(none.status == .unauthorized)
                #expect(none.json["error"] as? String == "invalid_client")
            }
        }
    }

    @Test func askingForMoreThanTheClientsScopeIsInvalidScope() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let c = try await fixture.clients.create(account: account.id, scope: .webhook)
            try await fixture.application().test(.live) { client in
                for scope in ["mcp", "webhook%20mcp", "api"] {
                    let response = try await client.token(
                        clientID: c.client.clientID, secret: c.clientSecret, extra: "&scope=\(scope)")
                    #expect(response.status == .badRequest, "\(scope)")
                    #expect(response.json["error"] as? String == "invalid_scope", "\(scope)")
                }
            }
        }
    }

    @Test func repeatedFailuresAreSlowedDownThenForgiven() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let c = try await fixture.clients.create(account: account.id, scope: .webhook)
            try await fixture.application().test(.live) { client in
                for _ in 0..<10 {
                    let failed = try await client.token(clientID: c.client.clientID, secret: "hls_guess")
                    #expect(failed.status == .unauthorized)
                }
                let braked = try await client.token(clientID: c.client.clientID, secret: c.clientSecret)
                #expect(braked.status == .tooManyRequests)
                let retryAfter = try #require(braked.headers[.retryAfter].flatMap(Int.init))
                #expect((1...60).contains(retryAfter))
                fixture.clock.advance(by: TimeInterval(retryAfter))
                let after = try await client.token(clientID: c.client.clientID, secret: c.clientSecret)
                #expect(after.status == .ok)
            }
        }
    }

    @Test func twoTokensFromOneClientLiveIndependentlyAndRevokingOneLeavesTheOther() async throws {
        try await ServerFixture.run { fixture in
            let console = try await fixture.clients.create(account: nil, scope: .api)
            let id = console.client.clientID
            let secret = console.clientSecret
            try await fixture.application().test(.live) { client in
                let first = try #require(try await client.token(clientID: id, secret: secret).accessToken)
                let second = try #require(try await client.token(basic: id, secret).accessToken)
                #expect(first != second)
                #expect(try await client.accounts(bearer: first).status == .ok)
                #expect(try await client.accounts(bearer: second).status == .ok)
                let revoked = try await client.form(
                    "/oauth/revoke", "token=\(first)&token_type_hint=access_token",
                    headers: [.authorization: basicHeader(id, secret)])
                #expect(revoked.status == .ok)
                try await eventually { try await client.accounts(bearer: first).status == .unauthorized }
                #expect(try await client.accounts(bearer: second).status == .ok)
                // RFC 7009: unknown tokens are fine too; a missing token is not.
                let unknown = try await client.form(
                    "/oauth/revoke", "token=hlt_nothing&client_id=\(id)&client_secret=\(secret)")
                #expect(unknown.status == .ok)
                let missing = try await client.form("/oauth/revoke", "client_id=\(id)&client_secret=\(secret)")
                #expect(missing.status == .badRequest)
                let unauthenticated = try await client.form("/oauth/revoke", "token=\(second)")
                #expect(unauthenticated.status == .unauthorized)
                #expect(try await client.accounts(bearer: second).status == .ok)
            }
        }
    }

    @Test func anotherClientCannotRevokeMyToken() async throws {
        try await ServerFixture.run { fixture in
            let mine = try await fixture.clients.create(account: nil, scope: .api)
            let theirs = try await fixture.clients.create(account: nil, scope: .api)
            try await fixture.application().test(.live) { client in
                let token = try #require(
                    try await client.token(clientID: mine.client.clientID, secret: mine.clientSecret).accessToken)
                let attempt = try await client.form(
                    "/oauth/revoke", "token=\(token)",
                    headers: [.authorization: basicHeader(theirs.client.clientID, theirs.clientSecret)])
                #expect(attempt.status == .ok)
                try await Task.sleep(for: .milliseconds(200))
                #expect(try await client.accounts(bearer: token).status == .ok)
            }
        }
    }
}
