import Foundation
import Hookline
import HooklineServer
import Postgres
import TestSupport
import Testing

/// A session's byte budget bounds what the SDK's transport keeps of it (every message, for replay, until the
/// session ends), also when many of its answers are still to come.
@Suite("MCP session budgets with answers in flight")
struct MCPSessionBudgetTests {
    /// Tool calls waiting for their jobs are admitted on the bytes counted so far; their answers came later,
    /// and were counted only once written, so eight calls whose jobs finished together left eight large answers
    /// in the transport, several budgets' worth. Answers are now counted as the server sends them: one past
    /// the budget is not kept, and the session ends.
    @Test func answersThatArriveTogetherStopAtTheBudget() async throws {
        let budget = 256 << 10
        try await live(settings: {
            $0.mcp.maxBytesPerSession = budget
            $0.mcp.maxStreamsPerSession = 64
        }) { live in
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let session = client
            // As many as the test client holds connections to one host at once.
            let calls = 8
            let replies = try await withThrowingTaskGroup(of: MCPClient.Reply.self) { group in
                for id in 0..<calls {
                    group.addTask {
                        try await session.callTool(
                            "reorder", id: 10 + id, arguments: ["sku": "S-\(id)", "wait_seconds": 20])
                    }
                }
                // Every call's job is queued; then they finish at once, each with a 60 KB output.
                try await eventually(within: .seconds(10)) {
                    try await live.fixture.jobCount(live.server.id) == calls
                }
                let queue = JobQueue(database: live.fixture.database.client)
                let jobs = try await queue.claim(limit: calls, worker: "test", leaseSeconds: 60)
                #expect(jobs.count == calls)
                let output = #"{"big":"\#(String(repeating: "x", count: 60_000))"}"#
                let finished = try await queue.complete(
                    jobs.map {
                        JobQueue.Completion(
                            id: $0.id, outcome: .succeeded,
                            checkpoint: StepCheckpoint(nextStep: 0, outputs: PostgresJSON(rawJSON: output)))
                    }, worker: "test")
                #expect(finished.count == calls)
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let answered = replies.filter { ($0.result?["structuredContent"] as? [String: Any])?["big"] != nil }
            let answeredBytes = answered.reduce(0) { $0 + $1.body.count }
            let largest = answered.map(\.body.count).max() ?? 0
            #expect(!answered.isEmpty)
            #expect(
                answeredBytes <= budget + largest, "\(answered.count) answers, \(answeredBytes) bytes kept and sent")
            #expect(try await session.request("tools/list", id: 99).status == 404, "the session ended")
        }
    }

    /// A session runs `--mcp-max-calls-per-session` tool calls at once; one more is refused at once, so the
    /// results being built for one session stay bounded whatever it sends.
    @Test func callsPastTheSessionsBoundAreRefusedAtOnce() async throws {
        try await live(settings: { $0.mcp.maxCallsPerSession = 2 }) { live in
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let session = client
            let texts = try await withThrowingTaskGroup(of: String.self) { group in
                for id in 0..<5 {
                    group.addTask {
                        let reply = try await session.callTool(
                            "reorder", id: 10 + id, arguments: ["sku": "S-\(id)", "wait_seconds": 8])
                        let content = reply.result?["content"] as? [[String: Any]]
                        return content?.first?["text"] as? String ?? reply.text
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(texts.filter { $0.contains("runs 2 tool calls at once at most") }.count == 3, "\(texts)")
            #expect(try await live.fixture.jobCount(live.server.id) == 2, "refused calls queue nothing")
        }
    }

    /// A resumption (`Last-Event-ID`) replays stored answers: the replayed bytes count against the session's
    /// budget, or a client could have the transport resend its whole store over and over for the price of a
    /// request each.
    @Test func replayedEventsCountAgainstTheBudget() async throws {
        // Resumed streams stay open: four at most, so that the test client's connections are given back.
        try await live(settings: {
            $0.mcp.maxBytesPerSession = 64 << 10
            $0.mcp.maxStreamsPerSession = 4
        }) { live in
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            let listed = try await client.request("tools/list", id: 2)
            #expect(listed.status == 200)
            // The priming event's id of the answer's stream: resuming after it replays the answer.
            let primed = listed.text.split(separator: "\n").first { $0.hasPrefix("id: ") }.map {
                String($0.dropFirst(4))
            }
            let resume = try #require(primed, "\(listed.text)")
            var resumed = 0
            for _ in 0..<200 {
                let stream = try await client.openEventStream(headers: [("Last-Event-ID", resume)])
                guard stream.status == 200 else { break }
                resumed += 1
            }
            // A request alone counts 512 bytes (some 120 rounds); its replayed answer, a few kilobytes, counts too.
            #expect(resumed < 60, "\(resumed) replays of a \(listed.body.count)-byte answer")
            #expect(try await client.request("tools/list", id: 3).status == 404, "the session used its budget")
        }
    }
}
