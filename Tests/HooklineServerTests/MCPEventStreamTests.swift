import Foundation
import HooklineServer
import TestSupport
import Testing

/// The event streams of MCP sessions, as a hostile or broken client opens them: each ends with its session.
@Suite("MCP event streams")
struct MCPEventStreamTests {
    /// A stream resumed with `Last-Event-ID` takes the place of the one before in the SDK's transport, which
    /// then no longer ends that one: without streams of its own to end, the server kept every replaced stream
    /// (a task and a connection) open past the end of its session, as many as a client cared to open.
    @Test func everyEventStreamOfASessionEndsWithIt() async throws {
        try await live(settings: { $0.mcp.idleTimeout = .seconds(120) }) { live in
            var mcp = live.mcp()
            let first = try await Self.sessionWithAStream(&mcp)
            let resume = try #require(first.eventIDs.first)
            var streams = [first]
            for _ in 0..<4 {
                let resumed = try await mcp.openEventStream(headers: [("Last-Event-ID", resume)])
                #expect(resumed.status == 200)
                streams.append(resumed)
            }
            #expect(try await mcp.delete().status == 200)
            try await eventually(within: .seconds(5)) { streams.allSatisfy(\.ended) }
        }
    }

    /// Past `--mcp-max-streams-per-session`, a new stream ends the session's oldest.
    @Test func aNewStreamPastTheSessionsLimitEndsItsOldest() async throws {
        try await live(settings: { $0.mcp.maxStreamsPerSession = 3 }) { live in
            var mcp = live.mcp()
            let first = try await Self.sessionWithAStream(&mcp)
            let resume = try #require(first.eventIDs.first)
            var streams = [first]
            for _ in 0..<4 {
                streams.append(try await mcp.openEventStream(headers: [("Last-Event-ID", resume)]))
            }
            try await eventually(within: .seconds(5)) { streams.prefix(2).allSatisfy(\.ended) }
            #expect(!streams.suffix(3).contains { $0.ended }, "the three newest stay open")
            #expect(try await mcp.request("tools/list", id: 9).status == 200, "the session goes on")
        }
    }

    /// A plain GET opens the session's stream anew, ending the one before, which the server may not know has
    /// gone (a proxy cut it while it was idle): the SDK's transport keeps its first GET stream as live forever,
    /// and answered every later plain GET 409, which Streamable HTTP does not allow, so the client heard no
    /// more `list_changed`. The new stream resumes after the last event the old one carried.
    @Test func aPlainGETAfterTheSessionsStreamReplacesIt() async throws {
        try await live(settings: { $0.mcp.idleTimeout = .seconds(120) }) { live in
            var mcp = live.mcp()
            let first = try await Self.sessionWithAStream(&mcp)
            let second = try await mcp.openEventStream()
            #expect(second.status == 200)
            try await eventually(within: .seconds(5)) { first.ended }
            #expect(!second.ended)
            // A GET the transport refuses (another origin) ends nothing.
            var other = mcp
            other.origin = "https://evil.example"
            #expect(try await other.openEventStream().status == 403)
            try await Task.sleep(for: .milliseconds(300))
            #expect(!second.ended, "a refused GET left the stream alone")
            let third = try await mcp.openEventStream()
            #expect(third.status == 200)
            try await eventually(within: .seconds(5)) { second.ended }
        }
    }

    @Test func shutdownEndsOpenEventStreams() async throws {
        try await ServerFixture.run { fixture in
            let (_, _, server) = try await mcpServer(fixture, auth: .none)
            // The client stays connected through the shutdown, as an MCP client listening for changes does.
            try await MCPClient.withHTTP { http in
                let clock = ContinuousClock()
                let app = fixture.application { $0.mcp.idleTimeout = .seconds(120) }
                let (stream, leaving) = try await app.test(.live) { client in
                    var mcp = MCPClient(http: http, port: try #require(client.port), path: server.urlPath)
                    #expect(try await mcp.initialize().status == 200)
                    let stream = try await mcp.openEventStream()
                    #expect(stream.status == 200)
                    return (stream, clock.now)
                }
                let shutdown = leaving.duration(to: clock.now)
                // Far below the idle timeout, with room for a loaded machine.
                #expect(shutdown < .seconds(30), "the shutdown waited \(shutdown) for the session's idle timeout")
                #expect(stream.ended)
            }
        }
    }

    /// Opens a session with `mcp` and its event stream, once the stream's first event (its priming one) came.
    static func sessionWithAStream(_ mcp: inout MCPClient) async throws -> EventStream {
        #expect(try await mcp.initialize().status == 200)
        let stream = try await mcp.openEventStream()
        #expect(stream.status == 200)
        try await eventually(within: .seconds(5)) { !stream.eventIDs.isEmpty }
        return stream
    }
}
