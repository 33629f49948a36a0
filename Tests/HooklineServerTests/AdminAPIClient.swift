import Foundation
import HTTPTypes
import Hookline
import HummingbirdTesting
import NIOCore

/// Requests to the admin API of a live test application, with a console token.
struct AdminAPIClient {
    let client: any TestClientProtocol
    var token: String?

    /// A console client and a token of it, from the token endpoint.
    static func console(_ fixture: ServerFixture, _ client: any TestClientProtocol) async throws -> AdminAPIClient {
        let console = try await fixture.clients.create(account: nil, scope: .api)
        let token = try await client.token(clientID: console.client.clientID, secret: console.clientSecret).accessToken
        return AdminAPIClient(client: client, token: token)
    }

    /// One request; `body` is sent as JSON.
    func send(
        _ method: HTTPRequest.Method, _ path: String, json body: String? = nil, headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var fields = headers
        if let token { fields[.authorization] = "Bearer \(token)" }
        if body != nil { fields[.contentType] = "application/json" }
        return try await client.execute(
            uri: "/api/v1" + path, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) })
    }
}
