import AsyncHTTPClient
import Foundation
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

@Suite("MCP servers at /mcp/{id} over HTTP")
struct MCPServerTests {
    @Test func bearerServersChallengeWithTheirResourceMetadataAndTakeOnlyTheirAccountsMCPTokens() async throws {
        try await live(auth: .bearer) { live in
            let clients = live.fixture.clients
            let other = try await live.fixture.database.makeAccount("Other")
            let mine = try await live.token(clients.create(account: live.account.id, scope: .mcp))
            let webhook = try await live.token(clients.create(account: live.account.id, scope: .webhook))
            let console = try await live.token(clients.create(account: nil, scope: .api))
            let stranger = try await live.token(clients.create(account: other.id, scope: .mcp))
            let metadata =
                "http://127.0.0.1:\(live.port)/.well-known/oauth-protected-resource/mcp/\(live.server.id.lowercased)"

            var bare = live.mcp()
            let challenge = try await bare.initialize()
            #expect(challenge.status == 401)
            let bareHeader = challenge.headers.first(name: "WWW-Authenticate") ?? ""
            #expect(
                bareHeader.hasPrefix("Bearer realm=\"hookline\", resource_metadata=\"\(metadata)\""), "\(bareHeader)")
            #expect(!bareHeader.contains("error"), "no token came, so there is no error to name: \(bareHeader)")
            for refused in [webhook, console, stranger, "hlt_made_up"] {
                var client = live.mcp(token: refused)
                let answer = try await client.initialize()
                #expect(answer.status == 401)
                let header = answer.headers.first(name: "WWW-Authenticate") ?? ""
                #expect(header.contains("resource_metadata=\"\(metadata)\""))
                #expect(header.contains("error=\"invalid_token\""))
                #expect(client.sessionID == nil)
            }
            var client = live.mcp(token: mine)
            #expect(try await client.initialize().status == 200)
            #expect(try await client.request("tools/list", id: 2).result?["tools"] != nil)
            // Every request of a session needs the token, not only the first.
            var tokenless = client
            tokenless.token = nil
            #expect(try await tokenless.request("tools/list", id: 3).status == 401)
        }
    }

    @Test func theOAuthMetadataNamesTheServerAndTheTokenEndpoint() async throws {
        try await live(auth: .bearer) { live in
            let base = "http://127.0.0.1:\(live.port)"
            let resource = try await live.get("/.well-known/oauth-protected-resource" + live.server.urlPath)
            #expect(resource.status == 200)
            #expect(resource.json["resource"] as? String == base + live.server.urlPath)
            #expect((resource.json["authorization_servers"] as? [String])?.contains(base) == true)
            let authorization = try await live.get("/.well-known/oauth-authorization-server")
            #expect(authorization.status == 200)
            #expect(authorization.json["issuer"] as? String == base)
            #expect(authorization.json["token_endpoint"] as? String == base + "/oauth/token")
            #expect((authorization.json["grant_types_supported"] as? [String])?.contains("client_credentials") == true)
            let methods = Set(authorization.json["token_endpoint_auth_methods_supported"] as? [String] ?? [])
            #expect(methods.isSuperset(of: ["client_secret_basic", "client_secret_post"]))

            let unknown = "/mcp/" + UUID().uuidString.lowercased()
            #expect(try await live.get("/.well-known/oauth-protected-resource" + unknown).status == 404)
            var stranger = live.mcp(path: unknown)
            #expect(try await stranger.initialize().status == 404)
            var garbled = live.mcp(path: "/mcp/not-a-uuid")
            #expect(try await garbled.initialize().status == 404)
        }
    }

    @Test func aPublicURLIsWhatTheMetadataAndTheChallengeName() async throws {
        try await live(auth: .bearer, settings: { $0.publicURL = "https://hooks.example.com" }) { live in
            let base = "https://hooks.example.com"
            let resource = try await live.get("/.well-known/oauth-protected-resource" + live.server.urlPath)
            #expect(resource.json["resource"] as? String == base + live.server.urlPath)
            #expect(resource.json["authorization_servers"] as? [String] == [base])
            let authorization = try await live.get("/.well-known/oauth-authorization-server")
            #expect(authorization.json["issuer"] as? String == base)
            #expect(authorization.json["token_endpoint"] as? String == base + "/oauth/token")
            var client = live.mcp()
            let challenge = try await client.initialize()
            #expect(challenge.status == 401)
            #expect(
                challenge.headers.first(name: "WWW-Authenticate")?.contains(
                    "resource_metadata=\"\(base)/.well-known/oauth-protected-resource\(live.server.urlPath)\"") == true)
        }
    }

    @Test func sessionsStartAreTheirServersOwnAndEndWithDelete() async throws {
        try await live { live in
            var client = live.mcp()
            let initialized = try await client.initialize()
            #expect(initialized.status == 200)
            #expect(initialized.result?["protocolVersion"] as? String == "2025-06-18")
            let sessionID = try #require(client.sessionID)
            #expect(try await client.request("tools/list", id: 2).status == 200)

            var unknown = client
            unknown.sessionID = UUID().uuidString.lowercased()
            #expect(try await unknown.request("tools/list", id: 3).status == 404)
            // The id of a session of another server (of the same account) is unknown here.
            let sibling = try await MCPServerStore(database: live.fixture.database.client).create(
                account: live.account.id, name: "sibling", auth: .none, cycles: [live.cycle.id])
            var borrowed = live.mcp(path: sibling.urlPath)
            borrowed.sessionID = sessionID
            #expect(try await borrowed.request("tools/list", id: 4).status == 404)
            #expect(try await client.request("tools/list", id: 5).status == 200)

            #expect(try await client.delete().status == 200)
            #expect(try await client.request("tools/list", id: 6).status == 404)
            #expect(try await client.delete().status == 404)
        }
    }

    @Test func browserOriginsAreRefusedUnlessAllowed() async throws {
        try await live { live throws in
            var console = live.mcp()
            console.origin = "https://console.example"
            #expect(try await console.initialize().status == 403)
            var tool = live.mcp()
            #expect(try await tool.initialize().status == 200, "a client that is no browser sends no Origin")
        }
        try await live(settings: { $0.mcpAllowedOrigins = ["https://console.example"] }) { live throws in
            var evil = live.mcp()
            evil.origin = "https://evil.example"
            #expect(try await evil.initialize().status == 403)
            #expect(evil.sessionID == nil)
            var console = live.mcp()
            console.origin = "https://console.example"
            // A browser asks first (CORS preflight), and reads an answer only with Access-Control-Allow-Origin:
            // an allowed origin could not call at all without them.
            let preflight = try await console.send(
                .OPTIONS,
                headers: [
                    ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Headers", "content-type, mcp-session-id"),
                ])
            #expect(preflight.status == 204)
            #expect(preflight.headers["Access-Control-Allow-Origin"].first == "https://console.example")
            #expect(preflight.headers["Access-Control-Allow-Methods"].first?.contains("POST") == true)
            #expect(
                preflight.headers["Access-Control-Allow-Headers"].first?.lowercased().contains("mcp-session-id") == true
            )
            let opened = try await console.initialize()
            #expect(opened.status == 200)
            #expect(opened.headers["Access-Control-Allow-Origin"].first == "https://console.example")
            #expect(opened.headers["Access-Control-Expose-Headers"].first?.contains("Mcp-Session-Id") == true)
            #expect(try await console.request("tools/list", id: 2).status == 200)
            let refused = try await evil.send(.OPTIONS, headers: [("Access-Control-Request-Method", "POST")])
            #expect(refused.headers["Access-Control-Allow-Origin"].isEmpty, "no other origin is allowed")
            // The origin is checked on every request of a session.
            var hijacked = console
            hijacked.origin = "https://evil.example"
            #expect(try await hijacked.request("tools/list", id: 3).status == 403)
        }
    }

    @Test func aBodyOverMaxBodyBytesGets413() async throws {
        try await live(settings: { $0.maxBodyBytes = 4096 }) { live in
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let padding = String(repeating: "x", count: 4096)
            let large = try await client.request("tools/list", id: 2, params: ["padding": padding])
            #expect(large.status == 413)
            let stranger = live.mcp()
            let largeInitialize = try await stranger.request("initialize", id: 1, params: ["padding": padding])
            #expect(largeInitialize.status == 413)
            #expect(try await client.request("tools/list", id: 3).status == 200)
        }
    }

    /// MCP messages draw on the body budget that webhook deliveries use: while a large delivery is held, a
    /// message that does not fit gets 503 with `Retry-After` as a JSON-RPC error, and passes once it is freed.
    @Test func messagesOverTheSharedBodyBudgetGet503UntilItFrees() async throws {
        try await live(settings: {
            $0.maxBodyBytes = 600_000
            $0.maxBufferedBytes = 1_000_000
        }) { live in
            let (created, _, _) = try await live.fixture.webhook(.none)
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let padding = String(repeating: "x", count: 500_000)
            try await LoopbackHTTP.with(port: live.port) { http in
                // A webhook body of 600 kB arrives all but its last byte, and waits.
                let (stream, gate) = AsyncStream.makeStream(of: ByteBuffer.self)
                gate.yield(ByteBuffer(repeating: UInt8(ascii: "a"), count: 599_999))
                let held = Task {
                    try await http.post(created.webhook.urlPath, .stream(stream, length: .known(Int64(600_000))))
                }
                // Once the held body is in (the gauge shows it), a 500 kB message does not fit.
                try await eventually(within: .seconds(30)) { try await http.bufferedBytes() >= 599_999 }
                let refused = try await client.request("tools/list", id: 2, params: ["padding": padding])
                #expect(refused.status == 503)
                #expect(refused.headers.first(name: "Retry-After") == "1")
                let error = refused.json["error"] as? [String: Any]
                #expect(error?["code"] != nil, "a JSON-RPC error: \(refused.text)")
                gate.yield(ByteBuffer(string: "a"))
                gate.finish()
                #expect(try await held.value.status == 202)
            }
            let later = try await client.request("tools/list", id: 3, params: ["padding": padding])
            #expect(later.status == 200, "the budget was given back")
        }
    }

    @Test func configurationChangesReachTheEventStreamAndDeletionEndsTheSession() async throws {
        try await live { live in
            let database = live.fixture.database.client
            let restock = try await CycleStore(database: database).create(
                account: live.account.id, definition: Array(#"{"name": "restock", "steps": []}"#.utf8))
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let stream = try await client.openEventStream()
            #expect(stream.status == 200)
            func listChanges() -> Int { stream.methods.filter { $0 == "notifications/tools/list_changed" }.count }

            // The LISTEN connection may not be up yet when the test starts: change until it is heard.
            let servers = MCPServerStore(database: database)
            try await eventually(within: .seconds(10)) {
                _ = try await servers.update(live.server.id, cycles: [live.cycle.id, restock.id])
                for _ in 0..<50 where listChanges() == 0 { try await Task.sleep(for: .milliseconds(20)) }
                return listChanges() > 0
            }
            let tools = try await client.request("tools/list", id: 2).result?["tools"] as? [[String: Any]] ?? []
            #expect(tools.compactMap { $0["name"] as? String }.contains("restock"))

            // A cycle's new definition changes the tools of the servers that offer it.
            let heard = listChanges()
            _ = try await CycleStore(database: database).update(
                restock.id, definition: Array(#"{"name": "restock", "description": "Restocks.", "steps": []}"#.utf8))
            try await eventually(within: .seconds(5)) { listChanges() > heard }
            let described = try await client.request("tools/list", id: 3).result?["tools"] as? [[String: Any]] ?? []
            #expect(
                described.contains { $0["name"] as? String == "restock" && $0["description"] as? String == "Restocks." }
            )

            try await servers.delete(live.server.id)
            try await eventually(within: .seconds(5)) { stream.ended }
            #expect(try await client.request("tools/list", id: 4).status == 404)
        }
    }

    /// Numbers out of any integer's range (`1e300`) once trapped converting to `Int`, which took the whole
    /// process down: they are refused as tool failures, and the server goes on.
    @Test func outOfRangeNumbersInJobToolArgumentsAreRefused() async throws {
        try await live { live in
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            for (id, limit) in [(2, 1e300), (3, -1e20), (4, 2.5), (5, 0)] as [(Int, Double)] {
                let reply = try await client.callTool("list_jobs", id: id, arguments: ["limit": limit])
                #expect(reply.result?["isError"] as? Bool == true, "limit \(limit)")
            }
            let reply = try await client.callTool("get_job", id: 6, arguments: ["job_id": 1e300])
            #expect(reply.result?["isError"] as? Bool == true)
            #expect(try await client.request("ping", id: 7).result != nil)
        }
    }

    /// Tool calls spend the account's rate (`--account-rate-limit`) as webhook deliveries do: past it a call is
    /// an error result that says when to retry, and enqueues nothing.
    @Test func toolCallsSpendTheAccountRate() async throws {
        // One call per 100 s: the second call is refused however slowly the machine runs.
        try await live(settings: { $0.accountRateLimit = 0.01 }) { live in
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let first = try await client.callTool("reorder", id: 2, arguments: ["sku": "ABC-1", "wait_seconds": 0])
            #expect(first.result?["isError"] as? Bool == false)
            let second = try await client.callTool("reorder", id: 3, arguments: ["sku": "ABC-2", "wait_seconds": 0])
            #expect(second.result?["isError"] as? Bool == true)
            let structured = second.result?["structuredContent"] as? [String: Any]
            #expect((structured?["retry_after"] as? NSNumber)?.intValue ?? 0 >= 1)
            let jobs = try await live.fixture.database.client.query(
                "SELECT count(*) FROM hookline.jobs WHERE account_id = \(live.account.id)")
            #expect(try jobs[0].decode(Int.self, at: 0) == 1, "the refused call enqueued nothing")
        }
    }

    @Test func aCycleToolCallEnqueuesItsArgumentsAsAJob() async throws {
        try await live { live in
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let tools = try await client.request("tools/list", id: 2).result?["tools"] as? [[String: Any]] ?? []
            let reorder = try #require(tools.first { $0["name"] as? String == "reorder" })
            let schema = reorder["inputSchema"] as? [String: Any]
            let properties = Set((schema?["properties"] as? [String: Any] ?? [:]).keys)
            #expect(properties == ["sku", "quantity", "idempotency_key", "wait_seconds"])

            let arguments: [String: Any] = ["sku": "ABC-1", "quantity": 2, "wait_seconds": 0, "idempotency_key": "k-1"]
            // No worker runs: with `wait_seconds` 0 the answer is the waiting job (how the argument is read is
            // tested in MCPToolboxArgumentTests, without a clock).
            let call = try await client.callTool("reorder", id: 3, arguments: arguments)
            let result = try #require(call.result)
            #expect(result["isError"] as? Bool == false)
            let structured = try #require(result["structuredContent"] as? [String: Any])
            #expect(structured["state"] as? String == "available")
            let jobID = try #require((structured["job_id"] as? NSNumber)?.int64Value)

            let row = try #require(
                try await live.fixture.database.client.query(
                    "SELECT webhook_id, cycle_id, account_id, body FROM hookline.jobs WHERE id = \(jobID)"
                ).first)
            let (webhookID, cycleID, accountID, body) = try row.decode((UUID, UUID, UUID, Data).self)
            #expect(webhookID == live.server.id)
            #expect(cycleID == live.cycle.id)
            #expect(accountID == live.account.id)
            let stored = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            #expect(Set(stored.keys) == ["sku", "quantity"])
            #expect(stored["sku"] as? String == "ABC-1")
            #expect((stored["quantity"] as? NSNumber)?.intValue == 2)

            let again = try await client.callTool("reorder", id: 4, arguments: arguments)
            let againStructured = again.result?["structuredContent"] as? [String: Any]
            #expect((againStructured?["job_id"] as? NSNumber)?.int64Value == jobID)
            #expect(try await live.fixture.jobCount(live.server.id) == 1)

            let invalid = try await client.callTool(
                "reorder", id: 5, arguments: ["quantity": 20, "wait_seconds": 0, "idempotency_key": "k-2"])
            let invalidResult = try #require(invalid.result)
            #expect(invalidResult["isError"] as? Bool == true)
            let text = (invalidResult["content"] as? [[String: Any]])?.first?["text"] as? String ?? ""
            #expect(text.contains("sku") && text.contains("quantity"), "\(text)")
            #expect(try await live.fixture.jobCount(live.server.id) == 1)
        }
    }
}
