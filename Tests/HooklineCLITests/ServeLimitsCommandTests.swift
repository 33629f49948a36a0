import Foundation
import Hookline
import TestSupport
import Testing

@Suite("hookline serve's limits")
struct ServeLimitsCommandTests {
    /// Past `--max-connections`, a new connection waits in the listen backlog until one closes.
    @Test func connectionsPastTheCapWaitForOneToClose() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let cycle = try await HooklineTestData.cycle(account: account.id, database: database)
            let webhook = try await HooklineTestData.openWebhook(account: account.id, cycle: cycle, database: database)
            let server = try HooklineBinary.Server(
                url: database.url, port: try HooklineBinary.freePort(), arguments: ["--max-connections", "2"])
            let request = "POST /webhooks/\(webhook) HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
            try await eventually(within: .seconds(20)) {
                guard let probe = try? RawConnection(port: server.port) else { return false }
                probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return probe.read(timeout: .seconds(2)).hasPrefix("HTTP/1.1 200")
            }
            var open: [RawConnection] = []
            for _ in 0..<2 {
                let connection = try RawConnection(port: server.port)
                connection.send(request)
                #expect(connection.read(timeout: .seconds(10)).hasPrefix("HTTP/1.1 202"))
                open.append(connection)
            }
            let waiting = try RawConnection(port: server.port)
            waiting.send(request)
            let early = waiting.read(timeout: .seconds(1))
            #expect(early.isEmpty, "not served past the cap: \(early.prefix(20))")
            open.removeFirst()
            if early.isEmpty {
                #expect(waiting.read(timeout: .seconds(10)).hasPrefix("HTTP/1.1 202"), "served once one closed")
            }
            #expect(try await server.terminate() == 0)
        }
    }

    /// Limits that cannot work are refused at start, with a message that says why.
    @Test func impossibleLimitsAreRefusedAtStart() async throws {
        for (arguments, says) in [
            (["--max-body-bytes", "1073741824"], "protocol message"),
            (["--max-body-bytes", "2000", "--max-buffered-bytes", "1000"], "--max-buffered-bytes"),
            (["--header-timeout", "0"], "--header-timeout"),
            (["--listen-database-url", "host=127.0.0.1 port=notaport"], "--listen-database-url"),
            (["--batch-max-deliveries", "0"], "--batch-max-deliveries must be from 1 to 10000"),
            (["--batch-max-deliveries", "10001"], "--batch-max-deliveries must be from 1 to 10000"),
            (["--batch-window-ms=-1"], "--batch-window-ms must be from 0 to 1000"),
            (["--batch-window-ms", "1001"], "--batch-window-ms must be from 0 to 1000"),
            (["--auth-failures-per-minute", "0"], "--auth-failures-per-minute must be from 1 to 1000"),
            (["--max-token-form-bytes", "0"], "--max-token-form-bytes must be at least 1"),
            (["--max-header-bytes", "0"], "--max-header-bytes must be at least 1"),
            (["--max-header-fields", "0"], "--max-header-fields must be at least 1"),
            (["--max-refused-body-bytes=-1"], "--max-refused-body-bytes must be 0 or more"),
            (["--max-cancel-requests", "0"], "--max-cancel-requests must be from 1 to 1024"),
            (["--max-cancel-requests", "100000"], "--max-cancel-requests must be from 1 to 1024"),
            (["--pool-size", "0"], "--pool-size must be from 1 to 1000"),
            (["--pool-size", "1000000"], "--pool-size must be from 1 to 1000"),
            (["--max-console-form-bytes", "0"], "--max-console-form-bytes must be at least 1"),
            (["--max-idempotency-key-bytes", "0"], "--max-idempotency-key-bytes must be from 1 to 2048"),
            (["--max-idempotency-key-bytes", "4096"], "--max-idempotency-key-bytes must be from 1 to 2048"),
            (["--api-idempotency-claim-seconds", "0"], "--api-idempotency-claim-seconds must be from 1 to 86400"),
            (["--api-idempotency-claim-seconds", "86401"], "--api-idempotency-claim-seconds must be from 1 to 86400"),
            (["--cache-entries", "0"], "--cache-entries must be at least 1"),
            (["--cache-seconds", "0"], "--cache-seconds must be from 1 to 86400"),
            (["--mcp-cache-entries", "0"], "--mcp-cache-entries must be at least 1"),
            (["--auth-failure-keys", "0"], "--auth-failure-keys must be at least 1"),
            (["--account-rate-buckets", "0"], "--account-rate-buckets must be at least 1"),
            (["--mcp-max-result-bytes", "0"], "--mcp-max-result-bytes must be at least 1"),
            (["--mcp-max-streams-per-session", "0"], "the MCP session limits must be positive"),
            (["--mcp-max-sessions-per-account", "0"], "the MCP session limits must be positive"),
            (["--mcp-max-calls-per-session", "0"], "the MCP session limits must be positive"),
            (["--mcp-max-streams-per-session", "8"], "--mcp-max-calls-per-session must be below"),
            (["--mcp-max-waiting-calls=-1"], "--mcp-max-waiting-calls must be 0 or more"),
        ] {
            let outcome = try await HooklineBinary.run(
                ["serve", "--database-url", "postgresql://nobody@127.0.0.1:1/none"] + arguments)
            #expect(outcome.status != 0, "\(arguments)")
            #expect(outcome.stderr.contains(says), "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.split(separator: "\n").first?.hasPrefix("Error: ") == true, "\(outcome.stderr)")
        }
        // The same checks hold for a value from the environment, and a value that is not a number is named.
        for (variable, value, says) in [
            ("HOOKLINE_BATCH_WINDOW_MS", "5000", "--batch-window-ms must be from 0 to 1000"),
            ("HOOKLINE_CACHE_ENTRIES", "0", "--cache-entries must be at least 1"),
            ("HOOKLINE_MCP_MAX_RESULT_BYTES", "0", "--mcp-max-result-bytes must be at least 1"),
            ("HOOKLINE_AUTH_FAILURES_PER_MINUTE", "many", "HOOKLINE_AUTH_FAILURES_PER_MINUTE must be an integer"),
            // A switch that is neither on nor off is refused, not read as off.
            ("HOOKLINE_ACCESS_LOG", "maybe", "HOOKLINE_ACCESS_LOG must be on or off"),
        ] {
            let outcome = try await HooklineBinary.run(
                ["serve", "--database-url", "postgresql://nobody@127.0.0.1:1/none"], environment: [variable: value])
            #expect(outcome.status != 0, "\(variable)")
            #expect(outcome.stderr.contains(says), "\(variable): \(outcome.stderr)")
        }
    }

    /// A comma-separated list in the environment may have spaces after its commas: the second origin of
    /// `https://a.example, https://b.example` is `https://b.example`, not one with a space that never matches.
    @Test func listsInTheEnvironmentMayHaveSpacesAfterTheirCommas() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let cycle = try await CycleStore(database: database.client).create(
                account: account.id, definition: Array(#"{"name": "lookup", "steps": []}"#.utf8))
            let created = try #require(
                try await HooklineBinary.json(
                    [
                        "mcp-servers", "create", "--account", account.id.lowercased, "--name", "Open", "--auth", "none",
                        "--cycle", cycle.id.lowercased,
                    ], url: database.url) as? [String: Any])
            let server = try #require(created["id"] as? String)
            let serve = try HooklineBinary.Server(
                url: database.url, port: try HooklineBinary.freePort(),
                environment: ["HOOKLINE_MCP_ALLOWED_ORIGINS": "https://a.example, https://b.example"])
            let body =
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
            var status = ""
            try await eventually(within: .seconds(20)) {
                guard let connection = try? RawConnection(port: serve.port) else { return false }
                connection.send(
                    "POST /mcp/\(server) HTTP/1.1\r\nHost: x\r\nOrigin: https://b.example\r\n"
                        + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                        + "Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                status = connection.read(timeout: .seconds(5)).components(separatedBy: "\r\n")[0]
                return !status.isEmpty
            }
            #expect(status == "HTTP/1.1 200 OK", "the second origin is allowed")
            #expect(try await serve.terminate() == 0)
        }
    }

    /// A limit given by flag, and one given by environment, are the ones `hookline serve` applies: the token
    /// endpoint's form limit (`--max-token-form-bytes`) and its brake (`HOOKLINE_AUTH_FAILURES_PER_MINUTE`).
    @Test func givenLimitsAreTheOnesApplied() async throws {
        try await MigratedDatabase.with { database in
            let console = try #require(
                try await HooklineBinary.json(["clients", "create", "--console"], url: database.url)
                    as? [String: Any])
            let clientID = try #require(console["client_id"] as? String)
            let server = try HooklineBinary.Server(
                url: database.url, port: try HooklineBinary.freePort(), arguments: ["--max-token-form-bytes", "200"],
                environment: ["HOOKLINE_AUTH_FAILURES_PER_MINUTE": "2"])
            try await eventually(within: .seconds(20)) {
                guard let probe = try? RawConnection(port: server.port) else { return false }
                probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return probe.read(timeout: .seconds(2)).hasPrefix("HTTP/1.1 200")
            }
            func token(_ form: String) throws -> String {
                let connection = try RawConnection(port: server.port)
                connection.send(
                    "POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n"
                        + form)
                return connection.readUntilClosed(timeout: .seconds(10))
            }
            let credentials = "grant_type=client_credentials&client_id=\(clientID)&client_secret=hls_guess"
            let large = try token(credentials + "&pad=" + String(repeating: "x", count: 200))
            #expect(large.hasPrefix("HTTP/1.1 400"), "\(large.prefix(40))")
            #expect(large.contains("too large"))
            for _ in 0..<2 {
                let failed = try token(credentials)
                #expect(failed.hasPrefix("HTTP/1.1 401"), "\(failed.prefix(40))")
            }
            let braked = try token(credentials)
            #expect(braked.hasPrefix("HTTP/1.1 429"), "the third failure within a minute: \(braked.prefix(40))")
            #expect(try await server.terminate() == 0)
        }
    }
}
