import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport
import Testing

@Suite("hookline accounts, clients and serve")
struct OAuthCommandTests {
    @Test func accountsAndClientsAreCreatedListedAndRevokedWithJSONOutput() async throws {
        try await MigratedDatabase.with { database in
            try await accountsAndClientsAreCreatedListedAndRevokedWithJSONOutputBody(database)
        }
    }

    func accountsAndClientsAreCreatedListedAndRevokedWithJSONOutputBody(_ database: MigratedDatabase) async throws {
        let url = database.url
        let account = try #require(
            try await HooklineBinary.json(["accounts", "create", "--name", "Acme"], url: url) as? [String: Any])
        let accountID = try #require(account["id"] as? String)
        #expect(account["name"] as? String == "Acme")
        #expect(accountID == accountID.lowercased(), "ids print as PostgreSQL prints them")
        let accounts = try #require(try await HooklineBinary.json(["accounts", "list"], url: url) as? [[String: Any]])
        #expect(accounts.map { $0["id"] as? String } == [accountID])

        let created = try #require(
            try await HooklineBinary.json(
                [
                    "clients", "create", "--account", accountID, "--scope", "webhook", "--expires-minutes", "30",
                    "--description", "CRM",
                ], url: url) as? [String: Any])
        let clientID = try #require(created["client_id"] as? String)
        let secret = try #require(created["client_secret"] as? String)
        #expect(created["id"] is String)
        #expect(created["scope"] as? String == "webhook")
        #expect(created["token_lifetime_seconds"] as? Int == 1800)
        #expect(created["description"] as? String == "CRM")
        #expect(secret.hasPrefix("hls_") && secret.count >= 47)

        let console = try #require(
            try await HooklineBinary.json(["clients", "create", "--console"], url: url) as? [String: Any])
        #expect(console["scope"] as? String == "api")
        #expect(console["account_id"] == nil)
        #expect(console["token_lifetime_seconds"] as? Int == 1_209_600)

        let listed = try #require(
            try await HooklineBinary.json(["clients", "list", "--account", accountID], url: url) as? [[String: Any]])
        #expect(listed.map { $0["client_id"] as? String } == [clientID])
        #expect(listed.allSatisfy { $0["client_secret"] == nil })
        let everything = try #require(try await HooklineBinary.json(["clients", "list"], url: url) as? [[String: Any]])
        #expect(everything.count == 2)

        let revoked = try #require(
            try await HooklineBinary.json(["clients", "revoke", clientID], url: url) as? [String: Any])
        #expect(revoked["revoked_at"] is String)
    }

    @Test func badArgumentsFailWithOneLineOnStderr() async throws {
        try await MigratedDatabase.with { database in try await badArgumentsFailWithOneLineOnStderrBody(database) }
    }

    func badArgumentsFailWithOneLineOnStderrBody(_ database: MigratedDatabase) async throws {
        let cases: [[String]] = [
            ["clients", "create", "--scope", "webhook"],
            ["clients", "create", "--account", UUID().uuidString, "--scope", "admin"],
            ["clients", "create", "--account", UUID().uuidString, "--scope", "webhook"],
            ["clients", "create", "--console", "--account", UUID().uuidString],
            ["clients", "create", "--account", "not-a-uuid", "--scope", "mcp"],
            ["clients", "revoke", "hlc_nobody"],
            ["accounts", "create", "--name", "  "],
        ]
        for arguments in cases {
            let outcome = try await HooklineBinary.run(arguments + ["--database-url", database.url])
            #expect(outcome.status != 0, "\(arguments)")
            #expect(!outcome.stderr.isEmpty, "\(arguments)")
            #expect(outcome.stdout.isEmpty, "\(arguments)")
        }
        let unknownAccount = try await HooklineBinary.run(
            ["clients", "create", "--account", UUID().uuidString, "--scope", "webhook", "--database-url", database.url])
        #expect(unknownAccount.stderr.contains("no account"))
        #expect(unknownAccount.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1)
    }

    @Test func serveIssuesTokensAndStopsGracefullyOnSIGTERMWithoutLoggingSecrets() async throws {
        try await MigratedDatabase.with { database in
            try await serveIssuesTokensAndStopsGracefullyOnSIGTERMWithoutLoggingSecretsBody(database)
        }
    }

    func serveIssuesTokensAndStopsGracefullyOnSIGTERMWithoutLoggingSecretsBody(_ database: MigratedDatabase)
        async throws
    {
        let url = database.url
        let console = try #require(
            try await HooklineBinary.json(["clients", "create", "--console"], url: url) as? [String: Any])
        let clientID = try #require(console["client_id"] as? String)
        let secret = try #require(console["client_secret"] as? String)

        // With the access log on, so that the requests are logged and the log can be searched for secrets.
        let server = try HooklineBinary.Server(
            url: url, port: try HooklineBinary.freePort(), arguments: ["--access-log"])
        let base = "http://127.0.0.1:\(server.port)"
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await eventually(within: .seconds(20)) {
                (try? await http.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(1)).status.code)
                    == 200
            }
            // `/readyz` gives the database two seconds to answer, which a loaded machine can miss just after start.
            try await eventually(within: .seconds(20)) {
                (try? await http.execute(HTTPClientRequest(url: base + "/readyz"), timeout: .seconds(5)).status.code)
                    == 200
            }

            var request = HTTPClientRequest(url: base + "/oauth/token")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.headers.add(
                name: "Authorization", value: "Basic " + Data("\(clientID):\(secret)".utf8).base64EncodedString())
            request.body = .bytes(ByteBuffer(string: "grant_type=client_credentials"))
            let response = try await http.execute(request, timeout: .seconds(5))
            #expect(response.status.code == 200)
            let body = try await response.body.collect(upTo: 1 << 16)
            let json = try JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8)) as? [String: Any]
            let token = try #require(json?["access_token"] as? String)

            var admin = HTTPClientRequest(url: base + "/api/v1/accounts")
            admin.headers.add(name: "Authorization", value: "Bearer \(token)")
            #expect(try await http.execute(admin, timeout: .seconds(5)).status.code == 200)

            let clock = ContinuousClock()
            let start = clock.now
            let status = try await server.terminate()
            #expect(status == 0)
            #expect(start.duration(to: clock.now) < .seconds(10))
            let log = server.log
            #expect(log.contains("/oauth/token"))
            #expect(!log.contains(secret))
            #expect(!log.contains(token))
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }
}
