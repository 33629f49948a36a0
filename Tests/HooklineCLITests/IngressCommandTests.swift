import AsyncHTTPClient
import Foundation
import Hookline
import NIOCore
import Postgres
import TestSupport
import Testing

@Suite("hookline cycles, webhooks, and serve's ingress")
struct IngressCommandTests {
    @Test func cyclesAndWebhooksAreCreatedListedStoppedAndDeleted() async throws {
        try await MigratedDatabase.with { database in
            let url = database.url
            let account = try await database.makeAccount()
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString).json")
            try Data(#"{"name": "orders", "steps": []}"#.utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let cycle = try #require(
                try await HooklineBinary.json(
                    ["cycles", "create", "--account", account.id.lowercased, "--file", file.path], url: url)
                    as? [String: Any])
            let cycleID = try #require(cycle["id"] as? String)
            #expect(cycle["name"] as? String == "orders")
            #expect(cycle["active"] as? Bool == true)

            let webhook = try #require(
                try await HooklineBinary.json(
                    [
                        "webhooks", "create", "--account", account.id.lowercased, "--cycle", cycleID, "--auth",
                        "standard-webhooks", "--allow-ip", "10.0.0.0/8",
                    ], url: url) as? [String: Any])
            let webhookID = try #require(webhook["id"] as? String)
            #expect(webhook["url"] as? String == "/webhooks/\(webhookID)")
            #expect((webhook["secret"] as? String)?.hasPrefix("whsec_") == true)
            #expect(webhook["allow_ips"] as? [String] == ["10.0.0.0/8"])

            let listed = try #require(
                try await HooklineBinary.json(["webhooks", "list"], url: url) as? [[String: Any]])
            #expect(listed.map { $0["id"] as? String } == [webhookID])
            #expect(listed.allSatisfy { $0["secret"] == nil })

            let stopped = try #require(
                try await HooklineBinary.json(["cycles", "stop", cycleID], url: url) as? [String: Any])
            #expect(stopped["active"] as? Bool == false)

            let deleted = try #require(
                try await HooklineBinary.json(["webhooks", "delete", webhookID], url: url) as? [String: String])
            #expect(deleted == ["deleted": webhookID])
            let after = try #require(try await HooklineBinary.json(["webhooks", "list"], url: url) as? [[String: Any]])
            #expect(after.isEmpty)

            for bad in [
                ["webhooks", "create", "--account", account.id.lowercased, "--cycle", cycleID, "--auth", "hmac"],
                ["webhooks", "create", "--account", account.id.lowercased, "--cycle", cycleID, "--allow-ip", "nope"],
                ["webhooks", "create", "--account", UUID().uuidString, "--cycle", cycleID],
                ["webhooks", "create", "--account", account.id.lowercased, "--cycle", cycleID, "--auth", "basic"],
            ] {
                let outcome = try await HooklineBinary.run(bad + ["--database-url", url])
                #expect(outcome.status != 0, "\(bad)")
                #expect(!outcome.stderr.isEmpty, "\(bad)")
            }
        }
    }

    @Test func sigtermLetsInFlightDeliveriesCommitAndAnswer() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let cycle = try await HooklineTestData.cycle(account: account.id, database: database)
            let webhook = try await HooklineTestData.openWebhook(account: account.id, cycle: cycle, database: database)
            let server = try HooklineBinary.Server(url: database.url, port: try HooklineBinary.freePort())
            let base = "http://127.0.0.1:\(server.port)"
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 32
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            do {
                try await eventually(within: .seconds(20)) {
                    (try? await http.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(1)))?.status
                        .code == 200
                }
                let answers = try await withThrowingTaskGroup(of: (UInt, Int64?).self) { group in
                    for index in 0..<300 {
                        group.addTask {
                            var request = HTTPClientRequest(url: base + "/webhooks/\(webhook)")
                            request.method = .POST
                            request.body = .bytes(ByteBuffer(string: "{\"n\":\(index)}"))
                            guard let response = try? await http.execute(request, timeout: .seconds(30)) else {
                                return (0, nil)
                            }
                            let body = try await response.body.collect(upTo: 4096)
                            let json = try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))
                            return (
                                response.status.code, ((json as? [String: Any])?["job_id"] as? NSNumber)?.int64Value
                            )
                        }
                    }
                    group.addTask {
                        // SIGTERM once deliveries are being committed, so that some are surely in flight.
                        for _ in 0..<1000 {
                            let rows = try await database.client.query("SELECT count(*) FROM hookline.jobs")
                            if try rows[0].decode(Int.self, at: 0) >= 20 { break }
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        server.process.signal(SIGTERM)
                        return (1, nil)
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let status = try await server.waitForExit()
                #expect(status == 0)
                let accepted = Set(answers.filter { $0.0 == 202 }.compactMap(\.1))
                let rows = try await database.client.query("SELECT array_agg(id) FROM hookline.jobs")
                let stored = Set(try rows[0].decode([Int64]?.self, at: 0) ?? [])
                #expect(!accepted.isEmpty, "some deliveries were answered before the shutdown")
                #expect(accepted.isSubset(of: stored), "every 202 names a committed row")
                print("SIGTERM during 300 deliveries: \(accepted.count) answered 202, \(stored.count) rows")
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }
}

/// Rows the CLI tests need, made directly.
enum HooklineTestData {
    static func cycle(account: UUID, database: MigratedDatabase) async throws -> UUID {
        try await database.client.query(
            """
            INSERT INTO hookline.cycles (account_id, name, definition)
            VALUES (\(account), 'c', '{"name":"c"}') RETURNING id
            """)[0].decode(UUID.self, at: 0)
    }

    static func openWebhook(account: UUID, cycle: UUID, database: MigratedDatabase) async throws -> String {
        try await database.client.query(
            "INSERT INTO hookline.webhooks (account_id, cycle_id) VALUES (\(account), \(cycle)) RETURNING id::text"
        )[0].decode(String.self, at: 0)
    }
}

@Suite("hookline jobs")
struct JobsCommandTests {
    @Test func jobsAreCountedListedCancelledAndRetried() async throws {
        try await MigratedDatabase.with { database in
            let url = database.url
            let account = try await database.makeAccount()
            let ids = try await JobQueue(database: database.client).insert(
                Array(repeating: NewJob(accountID: account.id), count: 3))
            let cancel = try #require(
                try await HooklineBinary.json(["jobs", "cancel", String(ids[0])], url: url) as? [String: Int64])
            #expect(cancel == ["cancelled": ids[0]])
            // Shown as text, a sender's body cannot reach the terminal's escape sequences.
            let hostile = try await JobQueue(database: database.client).insert([
                NewJob(accountID: account.id, body: Data("\u{1b}]52;c;aGk=\u{07}\u{9b}2J".utf8))
            ])[0]
            let shown = try await HooklineBinary.run(["jobs", "show", String(hostile), "--database-url", url])
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(!shown.stdout.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{07}" || $0 == "\u{9b}" })
            #expect(shown.stdout.contains(#"\u001b]52;c;aGk=\u0007\u009b2J"#), "\(shown.stdout)")
            let stats = try #require(try await HooklineBinary.json(["jobs", "stats"], url: url) as? [String: Int])
            #expect(stats["available"] == 3, "two and the hostile one")
            #expect(stats["cancelled"] == 1)
            let listed = try #require(
                try await HooklineBinary.json(["jobs", "list", "--state", "cancelled"], url: url) as? [[String: Any]])
            #expect(listed.map { ($0["id"] as? NSNumber)?.int64Value } == [ids[0]])
            let retried = try #require(
                try await HooklineBinary.json(["jobs", "retry", "--all", "--state", "cancelled"], url: url)
                    as? [String: [Int64]])
            #expect(retried["retried"] == [ids[0]])
            let again = try await HooklineBinary.run(["jobs", "cancel", "999999", "--database-url", url])
            #expect(again.status != 0)
            #expect(again.stderr.contains("no job 999999"))
        }
    }
}
