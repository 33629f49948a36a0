import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing

/// A migrated database, a driven clock, captured logs, and the application built as `hookline serve` does.
struct ServerFixture {
    let database: MigratedDatabase
    let clock = TestClock()
    let logs = LogCapture()

    var clients: OAuthClientStore { OAuthClientStore(database: database.client, now: clock.closure) }

    /// A fresh application on an ephemeral port, sharing this fixture's database, clock and logs.
    func application() -> some ApplicationProtocol {
        buildApplication(
            settings: ServerSettings(host: "127.0.0.1", port: 0),
            dependencies: ServerDependencies(database: database.client, now: clock.closure, logger: logs.logger()))
    }

    static func run(_ body: (ServerFixture) async throws -> Void) async throws {
        try await MigratedDatabase.with(maxConnections: 8) { database in
            try await body(ServerFixture(database: database))
        }
    }
}

/// Requests a test makes, spelled once.
extension TestClientProtocol {
    func form(
        _ uri: String, _ body: String, headers: HTTPFields = [:],
        contentType: String = "application/x-www-form-urlencoded"
    ) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = contentType
        return try await execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: body))
    }

    func token(clientID: String, secret: String, extra: String = "") async throws -> TestResponse {
        try await form(
            "/oauth/token",
            "grant_type=client_credentials&client_id=\(clientID)&client_secret=\(secret)\(extra)")
    }

    func token(basic clientID: String, _ secret: String, body: String = "grant_type=client_credentials")
        async throws -> TestResponse
    {
        try await form("/oauth/token", body, headers: [.authorization: basicHeader(clientID, secret)])
    }

    func accounts(bearer token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: "/api/v1/accounts", method: .get, headers: headers)
    }
}

func basicHeader(_ id: String, _ secret: String) -> String {
    "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
}

extension TestResponse {
    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    var accessToken: String? { json["access_token"] as? String }
}
