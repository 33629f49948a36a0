import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

@Suite("The admin API at /api/v1")
struct AdminAPITests {
    /// Every operation of the document refuses account-level tokens (and no token) with 401 and a problem
    /// document, before it reads anything; the document itself needs no token.
    @Test func everyOperationRefusesAccountTokens() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            try await fixture.application().test(.live) { client in
                var tokens: [String?] = [nil, "hlt_not_a_token"]
                for scope in [OAuthScope.webhook, .mcp] {
                    let created = try await fixture.clients.create(account: account.id, scope: scope)
                    tokens.append(
                        try await client.token(clientID: created.client.clientID, secret: created.clientSecret)
                            .accessToken)
                }
                let document = try await client.execute(uri: "/api/v1/openapi.json", method: .get)
                #expect(document.status == .ok)
                let operations = try Self.operations(of: Data(buffer: document.body))
                #expect(operations.count == 30)
                for (method, path) in operations {
                    for token in tokens {
                        let api = AdminAPIClient(client: client, token: token)
                        let answer = try await api.send(method, path, json: method == .get ? nil : "{}")
                        #expect(answer.status == .unauthorized, "\(method) \(path)")
                        #expect(answer.headers[.contentType] == "application/problem+json")
                        #expect(answer.headers[.wwwAuthenticate]?.hasPrefix("Bearer realm=\"hookline\"") == true)
                    }
                }
            }
        }
    }

    /// Console tokens open the admin API and nothing else: a bearer webhook and a bearer MCP server refuse them.
    @Test func consoleTokensAreRefusedOnWebhooksAndMCPServers() async throws {
        try await ServerFixture.run { fixture in
            let (created, account, cycle) = try await fixture.webhook(.bearer)
            let server = try await MCPServerStore(database: fixture.database.client).create(
                account: account.id, name: "tools", auth: .bearer, cycles: [cycle.id])
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                let bearer: HTTPFields = [.authorization: "Bearer \(try #require(api.token))"]
                #expect(try await client.deliver(created.webhook, "{}", headers: bearer).status == .unauthorized)
                var headers = bearer
                headers[.contentType] = "application/json"
                headers[.accept] = "application/json, text/event-stream"
                let mcp = try await client.execute(
                    uri: server.urlPath, method: .post, headers: headers,
                    body: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#))
                #expect(mcp.status == .unauthorized)
                #expect(try await api.send(.get, "/accounts").status == .ok)
            }
        }
    }

    /// Pages of `GET /jobs` neither repeat nor skip a job while new jobs arrive between them.
    @Test func jobPagesStayStableWhileJobsArrive() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let queue = JobQueue(database: fixture.database.client)
            let before = try await queue.insert(Array(repeating: NewJob(accountID: account.id), count: 95))
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                var seen: [Int64] = []
                var cursor: String?
                repeat {
                    let query =
                        "/jobs?account_id=\(account.id.lowercased)&limit=10" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let page = try await api.send(.get, query)
                    #expect(page.status == .ok)
                    let items = try #require(page.json["items"] as? [[String: Any]])
                    seen += items.compactMap { ($0["id"] as? NSNumber)?.int64Value }
                    cursor = page.json["next_cursor"] as? String
                    // Jobs arrive between every two pages.
                    _ = try await queue.insert(Array(repeating: NewJob(accountID: account.id), count: 7))
                } while cursor != nil
                #expect(seen == before.sorted(by: >), "every job that was there, once, newest first")
            }
        }
    }

    /// One request puts 10,000 dead jobs back in the queue.
    @Test func aBulkRetryRequeuesTenThousandDeadJobsInOneRequest() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let other = try await fixture.database.makeAccount()
            try await fixture.deadJobs(account.id, count: 10_000)
            try await fixture.deadJobs(other.id, count: 1)
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                let retried = try await api.send(
                    .post, "/jobs/retry", json: #"{"account_id": "\#(account.id.lowercased)", "state": "dead"}"#)
                #expect(retried.status == .ok)
                #expect(retried.json["retried"] as? Int == 10_000)
                let stats = try await api.send(.get, "/stats?account_id=\(account.id.lowercased)")
                let counts = try #require(stats.json["counts"] as? [String: Int])
                #expect(counts["available"] == 10_000)
                #expect(counts["dead"] == 0)
                let others = try await api.send(.get, "/stats?account_id=\(other.id.lowercased)")
                #expect((others.json["counts"] as? [String: Int])?["dead"] == 1, "another account's dead job stays")
            }
        }
    }

    /// A bulk retry names its account or cycle, or says `all`: an empty filter (a script's unset variable) must
    /// not replay every account's calls.
    @Test func aBulkRetryNeedsAnAccountACycleOrAll() async throws {
        try await ServerFixture.run { fixture in
            let accounts = [try await fixture.database.makeAccount(), try await fixture.database.makeAccount()]
            for account in accounts { try await fixture.deadJobs(account.id, count: 1) }
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                let account = accounts[0].id.lowercased
                for (body, pointer) in [
                    (#"{}"#, ""), (#"{"state": "dead"}"#, ""), (#"{"all": false}"#, ""),
                    (#"{"all": true, "account_id": "\#(account)"}"#, "/all"),
                ] {
                    let refused = try await api.send(.post, "/jobs/retry", json: body)
                    #expect(refused.status == .unprocessableContent, "\(body)")
                    let errors = refused.json["errors"] as? [[String: Any]]
                    #expect(errors?.compactMap { $0["pointer"] as? String } == [pointer], "\(body): \(refused.json)")
                }
                let all = try await api.send(.post, "/jobs/retry", json: #"{"all": true}"#)
                #expect(all.json["retried"] as? Int == 2)
            }
        }
    }

    /// Concurrent repeats of a creating request with one `Idempotency-Key` create one account: the others get
    /// its answer, or 409 while it still runs.
    @Test func concurrentRepeatsOfAnIdempotencyKeyCreateOnce() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                let statuses = try await withThrowingTaskGroup(of: (UInt, String?).self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            let answer = try await api.send(
                                .post, "/accounts", json: #"{"name": "Once"}"#, headers: [.idempotencyKey: "once"])
                            return (UInt(answer.status.code), answer.json["id"] as? String)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let created = statuses.filter { $0.0 == 201 }
                #expect(!created.isEmpty)
                #expect(Set(created.compactMap(\.1)).count == 1, "every 201 names the same account")
                #expect(statuses.allSatisfy { $0.0 == 201 || $0.0 == 409 })
                let accounts = try await AccountStore(database: fixture.database.client).list()
                #expect(accounts.filter { $0.name == "Once" }.count == 1)
                let other = try await api.send(
                    .post, "/accounts", json: #"{"name": "Twice"}"#, headers: [.idempotencyKey: "once"])
                #expect(other.status == .unprocessableContent, "the key belongs to another request")
            }
        }
    }

    /// A path the document does not have is a problem too, like every other error of the API.
    @Test func anUnknownPathIsAProblem() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                for (method, path) in [(HTTPRequest.Method.get, "/nope"), (.post, "/accounts/x/y/z"), (.delete, "/")] {
                    let answer = try await api.send(method, path)
                    #expect(answer.status == .notFound, "\(method) \(path)")
                    #expect(answer.headers[.contentType] == "application/problem+json", "\(method) \(path)")
                    #expect(answer.json["status"] as? Int == 404, "\(method) \(path)")
                }
                #expect(try await api.send(.get, "/accounts").status == .ok, "documented paths still answer")
            }
        }
    }

    /// The router reaches an operation by any spelling of its path (a trailing slash, doubled slashes), and so
    /// does the key: a repeat spelled otherwise is the same request, replayed, not a second account.
    @Test func anIdempotencyKeyHoldsWhateverTheSpellingOfThePath() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                let body = #"{"name": "Spelled"}"#
                let first = try await api.send(.post, "/accounts/", json: body, headers: [.idempotencyKey: "spelled"])
                #expect(first.status == .created)
                for path in ["/accounts/", "//accounts", "/accounts"] {
                    let again = try await api.send(.post, path, json: body, headers: [.idempotencyKey: "spelled"])
                    #expect(again.status == .created, "\(path)")
                    #expect(again.headers[.idempotencyReplayed] == "true", "\(path)")
                }
                let accounts = try await AccountStore(database: fixture.database.client).list()
                #expect(accounts.filter { $0.name == "Spelled" }.count == 1)
            }
        }
    }

    /// A secret is shown once: the idempotency table never holds it, and a replay comes without it.
    @Test func aReplayedClientCreationKeepsNoSecret() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                let body = #"{"scope": "api", "description": "provisioning"}"#
                let first = try await api.send(.post, "/clients", json: body, headers: [.idempotencyKey: "c-1"])
                #expect(first.status == .created)
                let secret = try #require(first.json["client_secret"] as? String)
                let replay = try await api.send(.post, "/clients", json: body, headers: [.idempotencyKey: "c-1"])
                #expect(replay.status == .created)
                #expect(replay.headers[.idempotencyReplayed] == "true")
                #expect(replay.json["client_secret"] == nil)
                let firstID = (first.json["client"] as? [String: Any])?["client_id"] as? String
                #expect(firstID != nil)
                #expect((replay.json["client"] as? [String: Any])?["client_id"] as? String == firstID)
                let stored = try await fixture.database.client.query(
                    """
                    SELECT count(*) FROM hookline.api_idempotency_keys
                    WHERE position(convert_to(\(secret), 'UTF8') IN body) > 0
                    """)
                #expect(try stored[0].decode(Int.self, at: 0) == 0)
            }
        }
    }

    /// `If-Match` with a list of tags matches when one does; a tag of another shape matches nothing.
    @Test func ifMatchTakesAListOfTagsAndOnlyCanonicalOnes() async throws {
        try await ServerFixture.run { fixture in
            let (_, cycle) = try await fixture.accountWithCycle()
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                let path = "/cycles/\(cycle.id.lowercased)"
                let update = #"{"definition": {"name": "test", "steps": []}}"#
                for tag in [#""01""#, #""+1""#, #"W/"1""#, #""99999999999""#] {
                    let answer = try await api.send(.put, path, json: update, headers: [.ifMatch: tag])
                    #expect(answer.status == .preconditionFailed, "\(tag)")
                }
                let listed = try await api.send(.put, path, json: update, headers: [.ifMatch: #""7", "1""#])
                #expect(listed.status == .ok)
                #expect(listed.headers[.eTag] == #""2""#)
            }
        }
    }

    /// A body over `--max-api-body-bytes` is 413, whether it says its length or not.
    @Test func aBodyOverTheLimitIs413() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application { $0.maxAPIBodyBytes = 1000 }.test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                let name = String(repeating: "a", count: 1000)
                let answer = try await api.send(.post, "/accounts", json: #"{"name": "\#(name)"}"#)
                #expect(answer.status == .contentTooLarge)
                #expect(answer.headers[.contentType] == "application/problem+json")
                #expect(try await api.send(.post, "/accounts", json: #"{"name": "small"}"#).status == .created)
            }
        }
    }

    /// The schema is checked on the text the operation decodes. Foundation's decoder reads some text otherwise
    /// than Hookline's parser (the first of a repeated member, a byte order mark, numbers out of range): such a
    /// body passed the check as something else, or unchecked, and a 300-character name was created.
    @Test func whatTheSchemaChecksIsWhatTheOperationDecodes() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let api = try await AdminAPIClient.console(fixture, client)
                let long = String(repeating: "a", count: 300)
                for (body, status) in [
                    (#"{"name": "\#(long)", "name": "ok"}"#, HTTPResponse.Status.unprocessableContent),
                    ("\u{FEFF}{\"name\": \"\(long)\"}", .badRequest),
                    (#"{"name": "\#(long)", "pad": 1e400}"#, .badRequest),
                ] {
                    let answer = try await api.send(.post, "/accounts", json: body)
                    #expect(answer.status == status, "\(body.prefix(12)): \(answer.json)")
                    #expect(answer.headers[.contentType] == "application/problem+json")
                }
                let names = try await fixture.database.client.query("SELECT name FROM hookline.accounts")
                #expect(try names.map { try $0.decode(String.self, at: 0) }.allSatisfy { $0.count <= 200 })
                // A client ID that is not one of ours names no client (it was 422, from PostgreSQL's refusal of
                // U+0000, which the document does not list for these operations).
                for (method, path) in [(HTTPRequest.Method.get, "/clients/%00"), (.post, "/clients/%00/revoke")] {
                    #expect(try await api.send(method, path).status == .notFound, "\(method) \(path)")
                }
            }
        }
    }

    /// The operations of an OpenAPI document: each method and path, with `{…}` parameters filled in (a UUID,
    /// or 1 for a job id or version).
    static func operations(of document: Data) throws -> [(HTTPRequest.Method, String)] {
        let object = try #require(try JSONSerialization.jsonObject(with: document) as? [String: Any])
        let paths = try #require(object["paths"] as? [String: [String: Any]])
        var operations: [(HTTPRequest.Method, String)] = []
        for (template, item) in paths.sorted(by: { $0.key < $1.key }) {
            var path = template
            for name in ["account_id", "webhook_id", "cycle_id", "server_id"] {
                path = path.replacingOccurrences(of: "{\(name)}", with: UUID().uuidString.lowercased())
            }
            for name in ["job_id", "version", "client_id"] {
                path = path.replacingOccurrences(of: "{\(name)}", with: "1")
            }
            for method in item.keys.sorted() where ["get", "post", "put", "patch", "delete"].contains(method) {
                operations.append((HTTPRequest.Method(method.uppercased())!, path))
            }
        }
        return operations
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotencyReplayed = HTTPField.Name("Idempotency-Replayed")!
}
