import Foundation
import Hookline
import HooklineServer
import Postgres
import TestSupport
import Testing

/// The job tools (`get_job`, `list_jobs`, `queue_stats`, …) as a hostile or careless agent calls them: they are
/// database reads on the pool the ingress shares, so each is rate-limited, bounded and sized before it loads.
@Suite("MCP job tools: rate, history window, size before load")
struct MCPJobToolTests {
    /// Every tool call spends the account's rate, not only the cycle tools': a loop of `queue_stats` is as many
    /// database reads as a loop of deliveries.
    @Test func jobToolsSpendTheAccountRate() async throws {
        try await live(settings: { $0.accountRateLimit = 0.01 }) { live in
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let first = try await client.callTool("queue_stats", id: 2, arguments: [:])
            #expect(first.result?["isError"] as? Bool == false)
            let second = try await client.callTool("queue_stats", id: 3, arguments: [:])
            #expect(second.result?["isError"] as? Bool == true)
            let structured = second.result?["structuredContent"] as? [String: Any]
            #expect((structured?["retry_after"] as? NSNumber)?.intValue ?? 0 >= 1)
        }
    }

    /// `queue_stats` and `list_jobs` read history only over ``MCPToolbox/historyWindow``: a job that finished
    /// before it is neither counted nor listed (so a year of history costs what a day does).
    @Test func statsAndListsReadOnlyRecentHistory() async throws {
        try await live { live in
            let database = live.fixture.database.client
            let queue = JobQueue(database: database)
            let ids = try await queue.insert(
                (1...2).map { _ in NewJob(accountID: live.account.id, maxAttempts: 1, body: Data("{}".utf8)) })
            for job in try await queue.claim(limit: 10, worker: "w", leaseSeconds: 30) {
                #expect(try await queue.fail(job.id, worker: "w", error: "boom") == .dead)
            }
            try await database.query(
                "UPDATE hookline.job_history SET finished_at = now() - interval '3 days' WHERE id = \(ids[0])")

            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let stats = try await client.callTool("queue_stats", id: 2, arguments: [:])
            let counts = try #require(stats.result?["structuredContent"] as? [String: Any])
            #expect((counts["dead"] as? NSNumber)?.intValue == 1, "the job that died three days ago is not counted")
            let list = try await client.callTool("list_jobs", id: 3, arguments: ["state": "dead"])
            let jobs = (list.result?["structuredContent"] as? [String: Any])?["jobs"] as? [[String: Any]] ?? []
            #expect(jobs.compactMap { ($0["id"] as? NSNumber)?.int64Value } == [ids[1]])
            // Still there for get_job, which reads one job by its id.
            let old = try await client.callTool("get_job", id: 4, arguments: ["job_id": ids[0]])
            #expect(old.result?["isError"] as? Bool == false)
        }
    }

    /// A job larger than a tool result may be is refused from its stored size, before its body and outputs are
    /// loaded; another account's job is not found, whatever its size.
    @Test func aJobTooLargeForAResultIsRefusedFromItsSize() async throws {
        try await live(settings: { $0.mcp.maxResultBytes = 64 * 1024 }) { live in
            let database = live.fixture.database.client
            let other = try await live.fixture.database.makeAccount()
            let big = Data(repeating: UInt8(ascii: "a"), count: 256 * 1024)
            let ids = try await JobQueue(database: database).insert([
                NewJob(accountID: live.account.id, maxAttempts: 1, body: big),
                NewJob(accountID: other.id, maxAttempts: 1, body: Data("{}".utf8)),
            ])
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let own = try await client.callTool("get_job", id: 2, arguments: ["job_id": ids[0]])
            #expect(own.result?["isError"] as? Bool == true)
            let text = ((own.result?["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            #expect(text.contains("job \(ids[0]) holds"), "refused from its stored size: \(text)")
            let foreign = try await client.callTool("get_job", id: 3, arguments: ["job_id": ids[1]])
            #expect(foreign.result?["isError"] as? Bool == true)
            let foreignText = ((foreign.result?["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            #expect(foreignText.contains("no job \(ids[1])"))
        }
    }
}
