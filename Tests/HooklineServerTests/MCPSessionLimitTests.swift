import AsyncHTTPClient
import Foundation
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

/// The bounds of an instance's MCP sessions: how many, of one server, of one account, their bytes and their idle time.
@Suite("MCP session limits")
struct MCPSessionLimitTests {
    @Test func pastMaxSessionsAnInitializeGets503() async throws {
        try await live(settings: { $0.mcp.maxSessions = 2 }) { live throws in
            var first = live.mcp()
            var second = live.mcp()
            var third = live.mcp()
            #expect(try await first.initialize().status == 200)
            #expect(try await second.initialize().status == 200)
            #expect(try await third.initialize().status == 503)
            #expect(third.sessionID == nil)
            // The open sessions still work, and ending one makes room.
            #expect(try await second.request("tools/list", id: 2).status == 200)
            #expect(try await first.delete().status == 200)
            #expect(try await third.initialize().status == 200)
        }
    }

    @Test func oneServersCallersCannotTakeEverySessionSlot() async throws {
        try await live(settings: { $0.mcp.maxSessionsPerServer = 1 }) { live throws in
            var first = live.mcp()
            var second = live.mcp()
            #expect(try await first.initialize().status == 200)
            #expect(try await second.initialize().status == 503)
            let other = try await MCPServerStore(database: live.fixture.database.client).create(
                account: live.account.id, name: "other", auth: .none, cycles: [live.cycle.id])
            var elsewhere = live.mcp(path: other.urlPath)
            #expect(try await elsewhere.initialize().status == 200, "another server has slots of its own")
        }
    }

    /// One account's callers cannot take every slot through many servers of their own either.
    @Test func oneAccountsCallersCannotTakeEverySessionSlot() async throws {
        try await live(settings: { $0.mcp.maxSessionsPerAccount = 2 }) { live throws in
            let servers = MCPServerStore(database: live.fixture.database.client)
            let second = try await servers.create(
                account: live.account.id, name: "second", auth: .none, cycles: [live.cycle.id])
            var one = live.mcp()
            var two = live.mcp(path: second.urlPath)
            var three = live.mcp(path: second.urlPath)
            #expect(try await one.initialize().status == 200)
            #expect(try await two.initialize().status == 200)
            #expect(try await three.initialize().status == 503, "the account's two slots are taken")
            let (_, _, stranger) = try await mcpServer(live.fixture, auth: .none)
            var elsewhere = live.mcp(path: stranger.urlPath)
            #expect(try await elsewhere.initialize().status == 200, "another account has slots of its own")
            #expect(try await one.delete().status == 200)
            #expect(try await three.initialize().status == 200)
        }
    }

    /// The SDK's transport keeps every message of a session: a session ends once the bytes it exchanged reach
    /// its budget, and every answer before that arrives whole.
    @Test func aSessionEndsAtItsByteBudgetAndEveryEarlierAnswerArrives() async throws {
        try await live(settings: { $0.mcp.maxBytesPerSession = 16 << 10 }) { live in
            var client = live.mcp()
            #expect(try await client.initialize().status == 200)
            var answered = 0
            var ended = false
            for id in 2..<40 {
                let reply = try await client.request("tools/list", id: id)
                if reply.status == 404 {
                    ended = true
                    break
                }
                #expect(reply.status == 200)
                #expect((reply.result?["tools"] as? [Any])?.isEmpty == false, "an answer was cut: \(reply.text)")
                answered += 1
            }
            #expect(ended, "the session outlived its budget")
            #expect(answered >= 2)
            // Requests alone (a few hundred bytes each with the overhead) would last some 25 rounds; the answers
            // (a tool list of a few kilobytes each) count too.
            #expect(answered < 12, "the answers' bytes were not counted: \(answered) rounds")
            var fresh = live.mcp()
            #expect(try await fresh.initialize().status == 200)
        }
    }

    @Test func idleSessionsExpire() async throws {
        // One session at most: a new initialize succeeds once the idle one is gone, which shows its expiry
        // without touching it (any request to it would make it busy again).
        // An idle timeout of a few seconds: on a loaded machine, one second may pass between two requests.
        try await live(settings: { $0.mcp = .init(maxSessions: 1, idleTimeout: .seconds(3)) }) { live in
            var idle = live.mcp()
            #expect(try await idle.initialize().status == 200)
            let stream = try await idle.openEventStream()
            #expect(stream.status == 200)
            var blocked = live.mcp()
            #expect(try await blocked.initialize().status == 503)
            // The sweeper runs every 5 s.
            try await eventually(within: .seconds(20)) {
                var next = live.mcp()
                return try await next.initialize().status == 200
            }
            try await eventually(within: .seconds(2)) { stream.ended }
            #expect(try await idle.request("tools/list", id: 2).status == 404)
        }
    }
}
