import Foundation
import Hookline
import TestSupport
import Testing

/// A payload's `\u0000`, copied into a step's output, which PostgreSQL's `jsonb` cannot hold: the output is
/// stored with U+FFFD in its place. Before, the statement that stored it failed, and for a cycle that runs in
/// memory that statement is the claim's own: the whole batch rolled back, the job stayed first in line, and
/// no job of the queue ran again.
@Suite("A NUL in a payload")
struct NulInPayloadTests {
    @Test func aNulCopiedIntoAnOutputNeitherStallsTheQueueNorFailsTheJob() async throws {
        try await CycleFixture.with { fixture in
            let cycle = try await fixture.cycle(
                #"{"name": "copy", "steps": [{"id": "m", "type": "map", "fields": {"name": "/name", "note": "{{payload.name}}!"}}]}"#
            )
            let poison = try await fixture.enqueue(cycle, #"{"name": "a\u0000b"}"#)
            let others = [
                try await fixture.enqueue(cycle, #"{"name": "c"}"#),
                try await fixture.enqueue(cycle, #"{"name": "d"}"#),
            ]
            try await fixture.work(within: .seconds(15)) { try await fixture.finished([poison] + others).count == 3 }
            let finished = try await fixture.finished([poison] + others)
            #expect(finished.values.allSatisfy { $0.state == "completed" })
            #expect(
                finished[poison]?.outputs["m"]
                    == .object(["name": .string("a\u{FFFD}b"), "note": .string("a\u{FFFD}b!")]))
        }
    }
}
