import Foundation
import Hookline
import TestSupport
import Testing

/// A `store` key that `hookline.cycle_data` cannot hold: one with a payload's `\u0000` (PostgreSQL's `text`
/// cannot; unlike an output, a key is not changed to fit, or two keys would become one), or one too long for
/// its index. Every attempt would fail the same way: the step fails for good at once, with its reason, instead
/// of spending the job's attempts. A `lookup` of such a key finds nothing, as for any key nothing was kept
/// under.
@Suite("A stored value's key that cannot be stored")
struct UnstorableKeyTests {
    @Test func aKeyThatCannotBeStoredFailsTheJobAtOnceAndALookupOfItIsNull() async throws {
        try await CycleFixture.with { fixture in
            let storing = try await fixture.cycle(
                """
                {"name": "keep", "retry": {"max_attempts": 5, "backoff_seconds": 1},
                 "steps": [{"id": "keep", "type": "store", "key": "{{payload.k}}", "value": {"value": 1}}]}
                """)
            let looking = try await fixture.cycle(
                """
                {"name": "recall", "retry": {"max_attempts": 5, "backoff_seconds": 1},
                 "steps": [{"id": "recall", "type": "map", "fields": {"kept": {"lookup": "{{payload.k}}"}}}]}
                """)
            let long = String(repeating: "k", count: 3000)
            let stored = [
                try await fixture.enqueue(storing, #"{"k": "a\u0000b"}"#),
                try await fixture.enqueue(storing, #"{"k": "\#(long)"}"#),
            ]
            let lookedUp = try await fixture.enqueue(looking, #"{"k": "a\u0000b"}"#)
            try await fixture.work(within: .seconds(15)) {
                try await fixture.finished(stored + [lookedUp]).count == 3
            }
            let finished = try await fixture.finished(stored + [lookedUp])
            for id in stored {
                #expect(finished[id]?.state == "dead")
                #expect(finished[id]?.attempt == 1, "no attempt after the first")
            }
            #expect(
                finished[stored[0]]?.lastError
                    == "step keep: the key contains U+0000, which PostgreSQL text cannot hold")
            #expect(finished[stored[1]]?.lastError == "step keep: the key is 3000 bytes, more than 2048")
            #expect(finished[lookedUp]?.state == "completed")
            #expect(finished[lookedUp]?.outputs["recall"] == .object(["kept": .null]))
        }
    }
}
