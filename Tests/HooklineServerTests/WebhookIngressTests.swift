import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Postgres
import TestSupport
import Testing

@Suite("POST /webhooks/{id} over HTTP")
struct WebhookIngressTests {
    @Test func anOpenWebhookStoresTheBodyExactlyAndTheHeadersWithoutCredentials() async throws {
        try await ServerFixture.run { fixture in
            let (created, account, cycle) = try await fixture.webhook(.none)
            // With the access log on (it is off by default: see the next test).
            try await fixture.application { $0.accessLog = true }.test(.live) { client in
                let body = ByteBuffer(bytes: [0x7b, 0x00, 0xff, 0x0a, 0x7d])
                let response = try await client.execute(
                    uri: created.webhook.urlPath, method: .post,
                    headers: [
                        .contentType: "application/octet-stream", .authorization: "Bearer something",
                        .cookie: "session=1", HTTPField.Name("X-Custom")!: "kept",
                    ], body: body)
                #expect(response.status == .accepted)
                let jobID = try #require(response.jobID)
                let job = try #require(try await fixture.job(jobID))
                #expect(job.state == "available")
                #expect(job.body == Data([0x7b, 0x00, 0xff, 0x0a, 0x7d]))
                #expect(job.contentType == "application/octet-stream")
                #expect(job.headers["x-custom"] == "kept")
                #expect(job.headers["authorization"] == nil)
                #expect(job.headers["cookie"] == nil)
                let row = try await fixture.database.client.query(
                    "SELECT account_id, cycle_id, webhook_id FROM hookline.jobs WHERE id = \(jobID)")[0]
                #expect(try row.decode((UUID, UUID, UUID).self) == (account.id, cycle.id, created.webhook.id))
            }
            // The URL of an open webhook is its credential: the log shows enough of it to tell, not to call.
            let id = created.webhook.id.lowercased
            #expect(!fixture.logs.lines(containing: "/webhooks/\(id.prefix(8))…").isEmpty)
            #expect(fixture.logs.lines(containing: id).isEmpty)
        }
    }

    @Test func requestsAreNotLoggedOneByOneUnlessTheAccessLogIsOn() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            try await fixture.application().test(.live) { client in
                let delivered = try await client.deliver(created.webhook, "{}")
                #expect(delivered.status == .accepted)
                let health = try await client.execute(uri: "/healthz", method: .get)
                #expect(health.status == .ok)
            }
            #expect(fixture.logs.lines(containing: "/webhooks/").isEmpty)
            #expect(fixture.logs.lines(containing: "/healthz").isEmpty)
        }
    }

    @Test func bearerWebhooksTakeOnlyTheirOwnAccountsWebhookTokens() async throws {
        try await ServerFixture.run { fixture in
            let (created, account, _) = try await fixture.webhook(.bearer)
            let (_, otherAccount, _) = try await fixture.webhook(.none)
            let mine = try await fixture.clients.create(account: account.id, scope: .webhook, expiresMinutes: 1)
            let other = try await fixture.clients.create(account: otherAccount.id, scope: .webhook)
            let mcp = try await fixture.clients.create(account: account.id, scope: .mcp)
            let console = try await fixture.clients.create(account: nil, scope: .api)
            try await fixture.application().test(.live) { client in
                func token(_ c: CreatedOAuthClient) async throws -> String {
                    try #require(
                        try await client.token(clientID: c.client.clientID, secret: c.clientSecret).accessToken)
                }
                let good = try await token(mine)
                let accepted = try await client.deliver(
                    created.webhook, "{}", headers: [.authorization: "Bearer \(good)"])
                #expect(accepted.status == .accepted)
                let bare = try await client.deliver(created.webhook, "{}")
                #expect(bare.status == .unauthorized)
                #expect(bare.headers[.wwwAuthenticate] == "Bearer realm=\"hookline\"")
                for bad in [try await token(other), try await token(mcp), try await token(console), "hlt_made_up"] {
                    let refused = try await client.deliver(
                        created.webhook, "{}", headers: [.authorization: "Bearer \(bad)"])
                    #expect(refused.status == .unauthorized)
                    #expect(refused.headers[.wwwAuthenticate]?.contains("error=\"invalid_token\"") == true)
                }
                fixture.clock.advance(by: 60)
                let expired = try await client.deliver(
                    created.webhook, "{}", headers: [.authorization: "Bearer \(good)"])
                #expect(expired.status == .unauthorized)
                #expect(try await fixture.jobCount(created.webhook.id) == 1)
            }
        }
    }

    @Test func standardWebhooksSignaturesAreCheckedAndReplaysDeduplicated() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.standardWebhooks)
            let secret = try #require(created.secret)
            #expect(secret.hasPrefix("whsec_"))
            let now = Int(fixture.clock.now.timeIntervalSince1970)
            let body = #"{"type":"order.created"}"#
            try await fixture.application().test(.live) { client in
                let headers = Signing.standardWebhooks(secret: secret, id: "msg_1", timestamp: now, body: body)
                let first = try await client.deliver(created.webhook, body, headers: headers)
                #expect(first.status == .accepted)
                let replay = try await client.deliver(created.webhook, body, headers: headers)
                #expect(replay.status == .ok)
                #expect(replay.jobID == first.jobID)
                let tampered = try await client.deliver(created.webhook, body + " ", headers: headers)
                #expect(tampered.status == .unauthorized)
                let wrongSecret = Signing.standardWebhooks(
                    secret: "whsec_" + Data(repeating: 7, count: 32).base64EncodedString(), id: "msg_2", timestamp: now,
                    body: body)
                #expect(try await client.deliver(created.webhook, body, headers: wrongSecret).status == .unauthorized)
                let stale = Signing.standardWebhooks(secret: secret, id: "msg_3", timestamp: now - 301, body: body)
                #expect(try await client.deliver(created.webhook, body, headers: stale).status == .unauthorized)
                let ahead = Signing.standardWebhooks(secret: secret, id: "msg_4", timestamp: now + 301, body: body)
                #expect(try await client.deliver(created.webhook, body, headers: ahead).status == .unauthorized)
                #expect(try await client.deliver(created.webhook, body).status == .unauthorized)
                #expect(try await fixture.jobCount(created.webhook.id) == 1)
                let firstID = try #require(first.jobID)
                let stored = try #require(try await fixture.job(firstID))
                #expect(stored.headers["webhook-signature"] == nil)
                #expect(stored.headers["webhook-id"] == "msg_1")
            }
        }
    }

    @Test func githubSignaturesAreCheckedAndDeliveriesDeduplicated() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(
                .github, settings: .init(secret: "It's a Secret to Everybody"))
            let body = "Hello, World!"
            try await fixture.application().test(.live) { client in
                let headers = Signing.github(secret: "It's a Secret to Everybody", body: body, delivery: "d-1")
                // GitHub's documented example signature for this secret and body.
                #expect(
                    headers[HTTPField.Name("X-Hub-Signature-256")!]
                        == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
                let first = try await client.deliver(created.webhook, body, headers: headers)
                #expect(first.status == .accepted)
                #expect(try await client.deliver(created.webhook, body, headers: headers).jobID == first.jobID)
                #expect(try await client.deliver(created.webhook, body + "!", headers: headers).status == .unauthorized)
                let wrong = Signing.github(secret: "another", body: body, delivery: "d-2")
                #expect(try await client.deliver(created.webhook, body, headers: wrong).status == .unauthorized)
                #expect(try await fixture.jobCount(created.webhook.id) == 1)
            }
        }
    }

    @Test func stripeSignaturesAreCheckedWithinFiveMinutesAndEventsDeduplicated() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.stripe)
            let secret = try #require(created.secret)
            let now = Int(fixture.clock.now.timeIntervalSince1970)
            let body = #"{"id":"evt_123","type":"charge.succeeded"}"#
            try await fixture.application().test(.live) { client in
                let headers = Signing.stripe(secret: secret, timestamp: now, body: body)
                let first = try await client.deliver(created.webhook, body, headers: headers)
                #expect(first.status == .accepted)
                let again = try await client.deliver(
                    created.webhook, body, headers: Signing.stripe(secret: secret, timestamp: now + 5, body: body))
                #expect(again.status == .ok)
                #expect(again.jobID == first.jobID)
                let tampered = body.replacingOccurrences(of: "succeeded", with: "failed")
                #expect(try await client.deliver(created.webhook, tampered, headers: headers).status == .unauthorized)
                let stale = Signing.stripe(secret: secret, timestamp: now - 301, body: body)
                #expect(try await client.deliver(created.webhook, body, headers: stale).status == .unauthorized)
                let wrong = Signing.stripe(secret: "whsec_other", timestamp: now, body: body)
                #expect(try await client.deliver(created.webhook, body, headers: wrong).status == .unauthorized)
                #expect(try await fixture.jobCount(created.webhook.id) == 1)
            }
        }
    }

    @Test func genericHMACWithSHA512InBase64AndAPrefix() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(
                .hmac, settings: .init(secret: "s3cr3t", header: "X-Signature", algorithm: "sha512", encoding: "base64")
            )
            let body = "payload"
            let signature = Signing.hmacSHA512Base64(secret: "s3cr3t", body: body)
            try await fixture.application().test(.live) { client in
                let name = HTTPField.Name("X-Signature")!
                #expect(try await client.deliver(created.webhook, body, headers: [name: signature]).status == .accepted)
                #expect(
                    try await client.deliver(created.webhook, body, headers: [name: "sha512=" + signature]).status
                        == .accepted)
                #expect(
                    try await client.deliver(created.webhook, "payload2", headers: [name: signature]).status
                        == .unauthorized)
                let wrong = Signing.hmacSHA512Base64(secret: "other", body: body)
                #expect(try await client.deliver(created.webhook, body, headers: [name: wrong]).status == .unauthorized)
                #expect(try await client.deliver(created.webhook, body).status == .unauthorized)
                let stored = try await fixture.database.client.query(
                    "SELECT count(*) FROM hookline.jobs WHERE headers ? 'x-signature'")
                #expect(try stored[0].decode(Int.self, at: 0) == 0)
            }
        }
    }

    @Test func unknownMalformedAndDeletedWebhooksAre404() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            try await fixture.application().test(.live) { client in
                #expect(try await client.deliver(created.webhook, "{}").status == .accepted)
                let unknown = try await client.execute(uri: "/webhooks/\(UUID().uuidString)", method: .post)
                #expect(unknown.status == .notFound)
                #expect(try await client.execute(uri: "/webhooks/not-a-uuid", method: .post).status == .notFound)
                try await WebhookStore(database: fixture.database.client).delete(created.webhook.id)
                try await eventually { try await client.deliver(created.webhook, "{}").status == .notFound }
            }
        }
    }

    @Test func bodiesOverTheLimitAre413ByContentLengthAndWhileReadingAChunkedBody() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let app = fixture.application { $0.maxBodyBytes = 1024 }
            try await app.test(.live) { client in
                #expect(
                    try await client.deliver(created.webhook, String(repeating: "a", count: 1024)).status == .accepted)
                let declared = try await client.deliver(created.webhook, String(repeating: "a", count: 1025))
                #expect(declared.status == .contentTooLarge)
                let port = try #require(client.port)
                let chunked = try await RawHTTP.chunkedPost(
                    port: port, path: created.webhook.urlPath,
                    chunks: Array(repeating: String(repeating: "b", count: 400), count: 4))
                #expect(chunked.hasPrefix("HTTP/1.1 413"))
                let small = try await RawHTTP.chunkedPost(
                    port: port, path: created.webhook.urlPath, chunks: ["ab", "cd"])
                #expect(small.hasPrefix("HTTP/1.1 202"))
                #expect(try await fixture.jobCount(created.webhook.id) == 2)
            }
        }
    }

    @Test func aStoppedCyclesJobsAreHeldAndReleasedOnActivation() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, cycle) = try await fixture.webhook(.none)
            let cycles = CycleStore(database: fixture.database.client)
            try await cycles.setActive(cycle.id, false)
            try await fixture.application().test(.live) { client in
                let response = try await client.deliver(created.webhook, "{}")
                #expect(response.status == .accepted)
                #expect(try await fixture.job(try #require(response.jobID))?.state == "held")
                try await cycles.setActive(cycle.id, true)
                #expect(try await fixture.job(try #require(response.jobID))?.state == "available")
            }
        }
    }

    @Test func theAllowListAdmitsOnlyItsNetworksAndBelievesOnlyTrustedProxies() async throws {
        try await ServerFixture.run { fixture in
            let (open, _, _) = try await fixture.webhook(.none, allowIPs: ["127.0.0.0/8", "::1"])
            let (closed, _, _) = try await fixture.webhook(.none, allowIPs: ["10.0.0.0/8", "2001:db8::/32"])
            let forwarded: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "10.1.2.3"]
            try await fixture.application().test(.live) { (client: any TestClientProtocol) async throws in
                #expect(try await client.deliver(open.webhook, "{}").status == .accepted)
                #expect(try await client.deliver(closed.webhook, "{}").status == .forbidden)
                // Not from a trusted proxy: the header is the caller's word and is ignored.
                #expect(try await client.deliver(closed.webhook, "{}", headers: forwarded).status == .forbidden)
            }
            try await fixture.application { $0.trustedProxies = [CIDR("127.0.0.1")!] }.test(.live) {
                (client: any TestClientProtocol) async throws in
                #expect(try await client.deliver(closed.webhook, "{}", headers: forwarded).status == .accepted)
            }
        }
    }

    @Test func anAccountOverItsRateIs429() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            try await fixture.application { $0.accountRateLimit = 0.01 }.test(.live) { client in
                #expect(try await client.deliver(created.webhook, "{}").status == .accepted)
                let limited = try await client.deliver(created.webhook, "{}")
                #expect(limited.status == .tooManyRequests)
                #expect(limited.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
            }
        }
    }

    @Test func aBatchThatMakesJobsAvailableWakesWorkersWithOneNotify() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            // Generous: the notification comes or never does, and a loaded machine is slow to send it.
            let listener = await Self.firstJobNotification(fixture, within: .seconds(60))
            let status = try await fixture.application().test(.live) { client in
                try await client.deliver(created.webhook, "{}").status
            }
            #expect(status == .accepted)
            let notification = try await listener.value
            #expect(notification?.channel == JobNotifications.channel)
        }
    }

    /// The batch's own transaction sends no NOTIFY: PostgreSQL serializes the commits of notifying
    /// transactions (one lock, held through the commit's flush and a synchronous standby's acknowledgement),
    /// so the batches of several instances queued behind each other. The wake-up comes after the commit, from
    /// a statement of its own (the test above).
    @Test func aBatchCommitsWithoutANotificationOfItsOwn() async throws {
        try await ServerFixture.run { fixture in
            let (created, account, cycle) = try await fixture.webhook(.none)
            let listener = await Self.firstJobNotification(fixture, within: .seconds(2))
            let delivery = Delivery(
                webhookID: created.webhook.id, accountID: account.id, cycleID: cycle.id,
                headers: PostgresJSON(rawJSON: "{}"), contentType: "application/json", body: Data("{}".utf8),
                idempotencyKey: nil, receivedAt: Date())
            let stored = try await JobQueue(database: fixture.database.client).enqueue([delivery])
            #expect(stored.madeJobsAvailable)
            #expect(try await listener.value == nil)
        }
    }

    /// Listens on the jobs channel (subscribed when this returns) for the first notification within `timeout`.
    private static func firstJobNotification(
        _ fixture: ServerFixture, within timeout: Duration
    ) async -> Task<PostgresNotification?, any Error> {
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let listener = Task {
            try await fixture.database.client.withConnection { connection -> PostgresNotification? in
                defer { readyContinuation.finish() }
                try connection.listen(JobNotifications.channel)
                readyContinuation.yield()
                return try connection.waitForNotification(timeout: timeout)
            }
        }
        for await _ in ready { break }
        return listener
    }

    @Test func metricsCountRequestsAndBatches() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            try await fixture.application().test(.live) { client in
                #expect(try await client.deliver(created.webhook, "{}").status == .accepted)
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains(#"hookline_http_requests_total{route="/webhooks/{id}",status="202"} 1"#))
                #expect(metrics.contains("hookline_ingress_batch_size_count 1"))
                #expect(metrics.contains("hookline_ingress_commit_seconds_bucket"))
            }
        }
    }
}

/// Hand-written HTTP/1.1 for what the test clients cannot send: a chunked body.
enum RawHTTP {
    static func chunkedPost(port: Int, path: String, chunks: [String]) async throws -> String {
        try await onOwnThread {
            let connection = try RawConnection(port: port)
            var request = "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
            request += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            for chunk in chunks { request += String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n" }
            request += "0\r\n\r\n"
            connection.send(request)
            return connection.readUntilClosed(timeout: .seconds(30))
        }
    }
}
