import Foundation
import Hookline
import TestSupport
import Testing

/// A job whose cycle version no longer parses (a definition written by an older, laxer build) is dead at once
/// with that reason, rather than left running until its lease runs out and then retried to death.
@Suite("A cycle version that does not parse")
struct InvalidCycleVersionTests {
    @Test func aJobOfAVersionThatDoesNotParseIsDeadAtOnceWithTheReason() async throws {
        try await CycleFixture.with { fixture in
            let cycle = try await fixture.cycle(
                #"{"name": "broken", "steps": [{"id": "m", "type": "map", "fields": {"a": "/a"}}]}"#)
            let id = try await fixture.enqueue(cycle, "{}")
            let broken = #"{"steps": 3}"#
            try await fixture.database.client.query(
                "UPDATE hookline.cycle_versions SET definition = \(broken)::jsonb WHERE cycle_id = \(cycle.id)")
            try await fixture.database.client.query(
                "UPDATE hookline.cycles SET definition = \(broken)::jsonb WHERE id = \(cycle.id)")
            // The lease is 30 s: well within it, the job must be finished.
            try await fixture.work(within: .seconds(10)) { try await fixture.finished([id]).count == 1 }
            let finished = try #require(try await fixture.finished([id])[id])
            #expect(finished.state == "dead")
            #expect(finished.attempt == 1)
            #expect(finished.lastError?.contains("the cycle version is invalid") == true, "\(finished.lastError ?? "")")
        }
    }
}
