import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import TestSupport
import Testing

@Suite("Client authentication under attack")
struct ClientAuthenticationHardeningTests {
    /// 16 callers mint tokens in a loop while the client is revoked, three times over; once `revoke` has
    /// returned, no token minted in the race may work (a second later) on a bearer webhook.
    @Test func noTokenMintedDuringARevocationOutlivesIt() async throws {
        try await ServerFixture.run { fixture in
            let (created, account, _) = try await fixture.webhook(.bearer)
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                try await LoopbackHTTP.with(port: port, connections: 32) { http in
                    var minted: [String] = []
                    for _ in 0..<3 {
                        let credentials = try await fixture.clients.create(account: account.id, scope: .webhook)
                        let form =
                            "grant_type=client_credentials&client_id=\(credentials.client.clientID)&client_secret=\(credentials.clientSecret)"
                        let revoked = Flag()
                        let tokens = try await withThrowingTaskGroup(of: [String].self) { group in
                            for _ in 0..<16 {
                                group.addTask {
                                    var mine: [String] = []
                                    // Until the revocation has returned, and a little after.
                                    var afterwards = 0
                                    while afterwards < 3 {
                                        if revoked.isSet { afterwards += 1 }
                                        let answer = try await http.post(
                                            "/oauth/token", form,
                                            headers: [("Content-Type", "application/x-www-form-urlencoded")])
                                        if answer.status == 200, let token = answer.accessToken { mine.append(token) }
                                    }
                                    return mine
                                }
                            }
                            try await Task.sleep(for: .milliseconds(300))
                            try await fixture.clients.revoke(clientID: credentials.client.clientID)
                            revoked.set()
                            return try await group.reduce(into: []) { $0 += $1 }
                        }
                        minted += tokens
                    }
                    #expect(minted.count >= 16, "the race minted tokens: \(minted.count)")
                    try await Task.sleep(for: .seconds(1))
                    var working = 0
                    for token in minted {
                        let answer = try await http.post(
                            created.webhook.urlPath, "{}", headers: [("Authorization", "Bearer \(token)")])
                        if answer.status != 401 { working += 1 }
                    }
                    #expect(working == 0, "\(working) of \(minted.count) tokens outlived their client's revocation")
                }
            }
        }
    }

    /// Behind a trusted proxy, the brake counts the client named by `X-Forwarded-For`: an attacker failing
    /// with a real client's (public) ID locks out only itself.
    @Test func theBrakeCountsTheClientBehindATrustedProxy() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let real = try await fixture.clients.create(account: account.id, scope: .webhook)
            let app = fixture.application { $0.trustedProxies = [CIDR("127.0.0.1/32")!] }
            try await app.test(.live) { client in
                let attacker: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]
                let victim: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.7"]
                let wrong =
                    "grant_type=client_credentials&client_id=\(real.client.clientID)&client_secret=hls_wrong"
                for _ in 0..<10 {
                    #expect(try await client.form("/oauth/token", wrong, headers: attacker).status == .unauthorized)
                }
                #expect(try await client.form("/oauth/token", wrong, headers: attacker).status == .tooManyRequests)
                let right =
                    "grant_type=client_credentials&client_id=\(real.client.clientID)&client_secret=\(real.clientSecret)"
                let answer = try await client.form("/oauth/token", right, headers: victim)
                #expect(answer.status == .ok, "the real client, at its own address, is not locked out")
            }
        }
    }

    /// A client ID that cannot be ours is refused without being remembered, so a flood of made-up IDs
    /// neither fills the brake nor trips it.
    @Test func clientIDsOfAnotherShapeAreRefusedWithoutBeingCounted() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let long = String(repeating: "x", count: 10_000)
                for id in Array(repeating: long, count: 11) + ["hlc_short", "hlc_" + String(repeating: "!", count: 20)]
                {
                    let answer = try await client.form(
                        "/oauth/token", "grant_type=client_credentials&client_id=\(id)&client_secret=s")
                    #expect(answer.status == .unauthorized, "refused as invalid_client, never braked")
                    #expect(answer.json["error"] as? String == "invalid_client")
                }
            }
            #expect(fixture.logs.lines(containing: String(repeating: "x", count: 100)).isEmpty)
        }
    }
}
