import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// Limits given by flag (through ``ServerSettings``) are the ones the routes apply, not their defaults.
@Suite("hookline serve's limits as given")
struct ConfiguredLimitsTests {
    /// `--max-token-form-bytes` and `--auth-failures-per-minute`.
    @Test func theTokenEndpointTakesItsFormLimitAndBrakeFromTheSettings() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let c = try await fixture.clients.create(account: account.id, scope: .webhook)
            let app = fixture.application {
                $0.maxTokenFormBytes = 200
                $0.authFailuresPerMinute = 2
            }
            try await app.test(.live) { client in
                let padding = "&pad=" + String(repeating: "x", count: 200)
                let large = try await client.token(clientID: c.client.clientID, secret: c.clientSecret, extra: padding)
                #expect(large.status == .badRequest)
                #expect(large.json["error"] as? String == "invalid_request")
                for _ in 0..<2 {
                    let failed = try await client.token(clientID: c.client.clientID, secret: "hls_guess")
                    #expect(failed.status == .unauthorized)
                }
                let braked = try await client.token(clientID: c.client.clientID, secret: c.clientSecret)
                #expect(braked.status == .tooManyRequests)
            }
        }
    }

    /// `--max-console-form-bytes`: a sign-in form past it is 413 before anything reads its fields.
    @Test func aConsoleFormPastTheGivenLimitIs413() async throws {
        try await ServerFixture.run { fixture in
            let console = try await fixture.clients.create(account: nil, scope: .api)
            let form =
                "client_id=\(console.client.clientID)&client_secret=hls_wrong&pad=" + String(repeating: "x", count: 100)
            try await fixture.application().test(.live) { client in
                let answer = try await client.form("/console/signin", form)
                #expect(answer.status == .unauthorized, "the default limit takes the form")
            }
            try await fixture.application { $0.maxConsoleFormBytes = 100 }.test(.live) { client in
                let answer = try await client.form("/console/signin", form)
                #expect(answer.status == .contentTooLarge)
            }
        }
    }

    /// `--max-idempotency-key-bytes`: a key up to the limit is kept as it is, a longer one as its hash.
    @Test func idempotencyKeysPastTheGivenLengthAreKeptAsTheirHash() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            try await fixture.application { $0.maxIdempotencyKeyBytes = 8 }.test(.live) { client in
                for key in ["12345678", "123456789"] {
                    let answer = try await client.deliver(created.webhook, "{}", headers: [.idempotencyKey: key])
                    #expect(answer.status == .accepted)
                }
                let repeated = try await client.deliver(created.webhook, "{}", headers: [.idempotencyKey: "123456789"])
                #expect(repeated.status == .ok)
            }
            let rows = try await fixture.database.client.query(
                "SELECT key FROM hookline.idempotency_keys WHERE webhook_id = \(created.webhook.id) ORDER BY key")
            let keys = try rows.map { try $0.decode(String.self, at: 0) }
            #expect(keys.count == 2)
            #expect(keys.first == "12345678")
            #expect(keys.last?.hasPrefix("sha256:") == true && keys.last?.utf8.count == 71)
        }
    }

    /// `--max-header-fields` and `--max-header-bytes`: a head past either is not answered; the connection closes.
    @Test func aRequestHeadPastTheGivenLimitsClosesTheConnection() async throws {
        try await ServerFixture.run { fixture in
            let app = fixture.application {
                $0.maxHeaderFields = 8
                $0.maxHeaderBytes = 1_000
            }
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let fields = (0..<6).map { "X-Field-\($0): x\r\n" }.joined()
                let long = "X-Long: " + String(repeating: "x", count: 600) + "\r\n"
                for (extra, expected) in [(fields, "200"), (fields + fields, nil), (long, "200"), (long + long, nil)] {
                    let connection = try RawConnection(port: port)
                    connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\(extra)Connection: close\r\n\r\n")
                    let answer = try await onOwnThread { connection.readUntilClosed(timeout: .seconds(10)) }
                    if let expected {
                        #expect(answer.hasPrefix("HTTP/1.1 \(expected)"), "\(answer.prefix(40))")
                    } else {
                        #expect(!answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(40))")
                    }
                }
            }
        }
    }
}
