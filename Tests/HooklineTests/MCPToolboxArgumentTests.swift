import Testing

@testable import Hookline

/// The arguments every cycle tool reserves for itself, read without a database or a clock.
@Suite("MCP tool arguments: wait_seconds and idempotency_key")
struct MCPToolboxArgumentTests {
    @Test func waitSecondsIsTheDefaultWhenAbsentAndExactlyWhatWasAskedOtherwise() throws {
        #expect(try MCPToolbox.waitSeconds(nil) == MCPToolbox.defaultWait)
        #expect(try MCPToolbox.waitSeconds(.null) == MCPToolbox.defaultWait)
        #expect(try MCPToolbox.waitSeconds(.int(0)) == 0)
        #expect(try MCPToolbox.waitSeconds(.int(Int64(MCPToolbox.maxWait))) == MCPToolbox.maxWait)
    }

    @Test func waitSecondsOutsideItsRangeOrOfAnotherTypeIsRefused() {
        for value: JSON in [.int(-1), .int(Int64(MCPToolbox.maxWait) + 1), .string("5"), .bool(true)] {
            #expect(throws: HooklineError.self, "\(value)") { try MCPToolbox.waitSeconds(value) }
        }
    }

    @Test func anIdempotencyKeyIsAStringOfOneTo200Bytes() throws {
        #expect(try MCPToolbox.idempotencyKey(nil) == nil)
        #expect(try MCPToolbox.idempotencyKey(.string("k-1")) == "k-1")
        #expect(try MCPToolbox.idempotencyKey(.string(String(repeating: "a", count: 200))) != nil)
        // U+0000 too: PostgreSQL's text refuses it, and the ingress batch the call's job went in failed whole.
        for value: JSON in [.string(""), .string(String(repeating: "a", count: 201)), .int(1), .string("a\u{0}")] {
            #expect(throws: HooklineError.self, "\(value)") { try MCPToolbox.idempotencyKey(value) }
        }
    }
}
