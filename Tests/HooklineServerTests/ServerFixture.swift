import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Postgres
import TestSupport
import Testing

/// A migrated database, a driven clock, captured logs, and the application built as `hookline serve` does.
struct ServerFixture {
    let database: MigratedDatabase
    let clock = TestClock()
    let logs = LogCapture()

    var clients: OAuthClientStore { OAuthClientStore(database: database.client, now: clock.closure) }

    /// A fresh application on an ephemeral port, sharing this fixture's database, clock and logs.
    func application(_ configure: (inout ServerSettings) -> Void = { _ in }) -> some ApplicationProtocol {
        var settings = ServerSettings(host: "127.0.0.1", port: 0)
        configure(&settings)
        return buildApplication(
            settings: settings,
            dependencies: ServerDependencies(database: database.client, now: clock.closure, logger: logs.logger()))
    }

    /// An account with an active cycle.
    func accountWithCycle() async throws -> (Account, Cycle) {
        let account = try await database.makeAccount()
        let cycle = try await CycleStore(database: database.client).create(
            account: account.id, definition: Array(#"{"name": "test", "steps": []}"#.utf8))
        return (account, cycle)
    }

    /// A webhook on a new account's cycle.
    func webhook(
        _ scheme: WebhookAuthScheme, settings: WebhookAuthSettings = .init(), allowIPs: [String] = []
    ) async throws -> (WebhookStore.Created, Account, Cycle) {
        let (account, cycle) = try await accountWithCycle()
        let created = try await WebhookStore(database: database.client).create(
            account: account.id, cycle: cycle.id, scheme: scheme, settings: settings, allowIPs: allowIPs)
        return (created, account, cycle)
    }

    /// `count` jobs of `account` that died, as a failed last attempt leaves them (in history, `dead`); their ids.
    @discardableResult
    func deadJobs(_ account: UUID, count: Int) async throws -> [Int64] {
        let ids = try await JobQueue(database: database.client).insert(
            Array(repeating: NewJob(accountID: account, maxAttempts: 1), count: count))
        try await database.client.query("SELECT hookline.move_to_history(\(ids), 'dead', 'failed')")
        return ids
    }

    /// The stored job with `id`: state, body, content type, headers.
    func job(_ id: Int64) async throws -> (state: String, body: Data, contentType: String?, headers: [String: String])?
    {
        let rows = try await database.client.query(
            "SELECT state, body, content_type, headers FROM hookline.jobs WHERE id = \(id)")
        guard let row = rows.first else { return nil }
        let (state, body, contentType, headers) = try row.decode((String, Data, String?, PostgresJSON).self)
        return (state, body, contentType, try headers.decode([String: String].self))
    }

    /// How many jobs a webhook has.
    func jobCount(_ webhook: UUID) async throws -> Int {
        try await database.client.query("SELECT count(*) FROM hookline.jobs WHERE webhook_id = \(webhook)")[0]
            .decode(Int.self, at: 0)
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

    /// POSTs a delivery to a webhook.
    func deliver(_ webhook: Webhook, _ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        if fields[.contentType] == nil { fields[.contentType] = "application/json" }
        return try await execute(uri: webhook.urlPath, method: .post, headers: fields, body: ByteBuffer(string: body))
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

    var jobID: Int64? { (json["job_id"] as? NSNumber)?.int64Value }
}
