import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import HummingbirdTesting
import TestSupport
import Testing

/// A delivery's credentials and webhook are checked for the request as it ends, not only as its head arrived: a
/// body can take as long as its sender likes (the body timeout is between bytes), so a secret rotated, a token
/// revoked or a webhook deleted while it came in must refuse it as it would refuse a new request.
@Suite("Changes while a delivery's body comes in", .serialized)
struct MidBodyChangeTests {
    /// Sends a head and half of `body` on a connection of its own, runs `change`, waits for every instance to
    /// have heard of it, then sends the rest; the answer's status line.
    func deliverAcross(
        _ change: () async throws -> Void, port: Int, path: String, body: String, headers: HTTPFields
    ) async throws -> String {
        let connection = try RawConnection(port: port)
        let fields = headers.map { "\($0.name.rawName): \($0.value)\r\n" }.joined()
        let half = body.index(body.startIndex, offsetBy: body.count / 2)
        connection.send(
            "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(fields)"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body[..<half])")
        try await Task.sleep(for: .milliseconds(200))
        try await change()
        try await Task.sleep(for: .seconds(1))  // a change reaches every instance within a second
        connection.send(String(body[half...]))
        return connection.read(timeout: .seconds(10)).components(separatedBy: "\r\n")[0]
    }

    @Test(arguments: [true, false])
    func aSecretRotatedATokenRevokedOrAWebhookDeletedMidBodyRefusesTheDelivery(fastPath: Bool) async throws {
        try await ServerFixture.run { fixture in
            let store = WebhookStore(database: fixture.database.client)
            let (signed, _, _) = try await fixture.webhook(.github)
            let (deleted, _, _) = try await fixture.webhook(.none)
            let (bearer, account, _) = try await fixture.webhook(.bearer)
            let caller = try await fixture.clients.create(account: account.id, scope: .webhook)
            try await fixture.application({ $0.webhookFastPath = fastPath }).test(.live) { client in
                let port = try #require(client.port)
                let token = try #require(
                    try await client.token(clientID: caller.client.clientID, secret: caller.clientSecret).accessToken)
                let body = #"{"event": "order.created", "n": 1}"#
                let secret = try #require(signed.secret)
                func signedHeaders(_ delivery: String) -> HTTPFields {
                    Signing.github(secret: secret, body: body, delivery: delivery)
                }
                // Each delivery is accepted once as a whole first, so that the caches know the webhook and token.
                #expect(
                    try await client.deliver(signed.webhook, body, headers: signedHeaders("d-1")).status == .accepted)
                #expect(try await client.deliver(deleted.webhook, body).status == .accepted)
                #expect(
                    try await client.deliver(bearer.webhook, body, headers: [.authorization: "Bearer \(token)"]).status
                        == .accepted)

                let rotated = try await deliverAcross(
                    { _ = try await store.rotateSecret(signed.webhook.id, grace: 0) }, port: port,
                    path: signed.webhook.urlPath, body: body, headers: signedHeaders("d-2"))
                #expect(rotated == "HTTP/1.1 401 Unauthorized", "signed with the secret rotated away")
                let gone = try await deliverAcross(
                    { try await store.delete(deleted.webhook.id) }, port: port, path: deleted.webhook.urlPath,
                    body: body, headers: [:])
                #expect(gone == "HTTP/1.1 404 Not Found", "to a webhook deleted meanwhile")
                let revoked = try await deliverAcross(
                    { _ = try await fixture.clients.revoke(clientID: caller.client.clientID) }, port: port,
                    path: bearer.webhook.urlPath, body: body, headers: [.authorization: "Bearer \(token)"])
                #expect(revoked == "HTTP/1.1 401 Unauthorized", "with a token revoked meanwhile")
            }
            #expect(try await fixture.jobCount(signed.webhook.id) == 1)
            #expect(try await fixture.jobCount(deleted.webhook.id) == 1)
            #expect(try await fixture.jobCount(bearer.webhook.id) == 1)
        }
    }
}
