import Hookline
import Testing

@testable import HooklineMCP

/// Tool results as the protocol carries them: structured content repeated as JSON text, and no result larger
/// than the session's replay store should keep.
@Suite("MCP tool results")
struct MCPResultTests {
    @Test func aResultCarriesItsStructuredContentAsTextToo() throws {
        let result = MCPSessionServer.result(
            .completed(jobID: 7, output: .object(["sku": .string("A")])),
            maxResultBytes: MCPSessionLimits.defaultMaxResultBytes)
        #expect(result.isError == false)
        guard case .text(let text, _, _)? = result.content.first else {
            Issue.record("no text content")
            return
        }
        #expect(try JSON(parsing: Array(text.utf8)) == .object(["sku": .string("A")]))
        #expect(result.structuredContent == ["sku": "A"])
    }

    @Test func aResultOverOneMebibyteIsRefusedWithItsJob() {
        let limit = MCPSessionLimits.defaultMaxResultBytes
        let big = String(repeating: "x", count: limit)
        let result = MCPSessionServer.result(
            .completed(jobID: 9, output: .object(["blob": .string(big)])), maxResultBytes: limit)
        #expect(result.isError == true)
        #expect(result.structuredContent == nil)
        guard case .text(let text, _, _)? = result.content.first else {
            Issue.record("no text content")
            return
        }
        #expect(text.contains("more than the \(limit)") && text.contains("job 9"))
        #expect(text.count < 1_000)
    }

    /// `--mcp-max-result-bytes`: the limit is the one the session was built with.
    @Test func theLimitIsTheOneGiven() {
        let result = MCPSessionServer.result(
            .completed(jobID: 3, output: .object(["blob": .string(String(repeating: "x", count: 200))])),
            maxResultBytes: 100)
        #expect(result.isError == true)
        let small = MCPSessionServer.result(
            .completed(jobID: 4, output: .object(["blob": .string("x")])), maxResultBytes: 100)
        #expect(small.isError == false)
    }
}
