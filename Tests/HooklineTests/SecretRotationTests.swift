import Crypto
import Foundation
import Hookline
import TestSupport
import Testing

@Suite("Rotating a webhook's signing secret")
struct SecretRotationTests {
    /// After a rotation the new secret signs, and the old one still does until its grace period ends; a second
    /// rotation drops the first secret at once.
    @Test func theOldSecretWorksForItsGracePeriodOnly() async throws {
        try await withWebhooks { store, account, cycle in
            let created = try await store.create(account: account.id, cycle: cycle.id, scheme: .github)
            let first = try #require(created.secret)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let rotated = try await store.rotateSecret(created.webhook.id, grace: 60, now: now)
            let second = try #require(rotated.secret)
            #expect(second != first)
            let webhook = try #require(try await store.find(created.webhook.id))
            #expect(webhook.previousSecretExpiresAt == now.addingTimeInterval(60))

            func check(_ secret: String, at seconds: TimeInterval) -> SignatureCheck.Refusal? {
                let body = Array(#"{"ok":true}"#.utf8)
                let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
                let signature = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
                return SignatureCheck.check(
                    scheme: .github, settings: webhook.settings, headers: ["x-hub-signature-256": signature],
                    body: body, now: now.addingTimeInterval(seconds))
            }
            #expect(check(second, at: 1) == nil)
            #expect(check(first, at: 59) == nil, "within the grace period")
            #expect(check(first, at: 60) == .badSignature, "after it")
            #expect(check("whatever", at: 1) == .badSignature)

            let again = try await store.rotateSecret(created.webhook.id, grace: 60, now: now)
            let latest = try #require(try await store.find(created.webhook.id))
            #expect(latest.settings.secrets(at: now) == [try #require(again.secret), second])
            await #expect(throws: HooklineError.self) { try await store.rotateSecret(created.webhook.id, grace: -1) }
            let open = try await store.create(account: account.id, cycle: cycle.id, scheme: .none)
            await #expect(throws: HooklineError.conflict("the none scheme has no signing secret")) {
                try await store.rotateSecret(open.webhook.id, grace: 60)
            }
        }
    }

    /// A signing secret given as empty (or a Standard Webhooks secret whose key is empty) is refused: HMAC with
    /// an empty key is a signature anyone can make, so the webhook would be open while it says it checks.
    @Test func anEmptySigningSecretIsRefused() async throws {
        try await withWebhooks { store, account, cycle in
            for (scheme, secret) in [
                (WebhookAuthScheme.github, ""), (.stripe, ""), (.standardWebhooks, "whsec_"), (.standardWebhooks, ""),
            ] {
                await #expect(throws: HooklineError.self, "\(scheme) with \(secret.debugDescription)") {
                    _ = try await store.create(
                        account: account.id, cycle: cycle.id, scheme: scheme,
                        settings: WebhookAuthSettings(secret: secret))
                }
            }
            var hmac = WebhookAuthSettings(secret: "")
            hmac.header = "X-Signature"
            await #expect(throws: HooklineError.self) {
                _ = try await store.create(account: account.id, cycle: cycle.id, scheme: .hmac, settings: hmac)
            }
            hmac.secret = "s"
            _ = try await store.create(account: account.id, cycle: cycle.id, scheme: .hmac, settings: hmac)
        }
    }

    /// A webhook stored with an empty secret before they were refused checks nothing against it: anyone can
    /// sign with an empty key, so such a webhook refuses every delivery as misconfigured.
    @Test func aStoredEmptySecretSignsNothing() {
        let body = Array(#"{"ok":true}"#.utf8)
        let now = Date()
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data()))
        let github = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
        #expect(
            SignatureCheck.check(
                scheme: .github, settings: WebhookAuthSettings(secret: ""), headers: ["x-hub-signature-256": github],
                body: body, now: now) == .misconfigured)
        let id = "msg_1"
        let timestamp = String(Int(now.timeIntervalSince1970))
        let signed = Array("\(id).\(timestamp).".utf8) + body
        let standard = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data()))
        #expect(
            SignatureCheck.check(
                scheme: .standardWebhooks, settings: WebhookAuthSettings(secret: "whsec_"),
                headers: [
                    "webhook-id": id, "webhook-timestamp": timestamp,
                    "webhook-signature": "v1," + Data(standard).base64EncodedString(),
                ], body: body, now: now) == .misconfigured)
    }

    /// Runs `body` with the webhook store of a migrated database, an account and a cycle of it.
    private func withWebhooks(_ body: (WebhookStore, Account, Cycle) async throws -> Void) async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let cycle = try await CycleStore(database: database.client).create(
                account: account.id, definition: Array(#"{"name": "c", "steps": []}"#.utf8))
            try await body(WebhookStore(database: database.client), account, cycle)
        }
    }
}
