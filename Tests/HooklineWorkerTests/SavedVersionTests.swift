import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// A version saved before a rule was added (at most 100 steps, splits that multiply to at most 100,000 jobs,
/// header names that are HTTP tokens) still runs: the rules refuse new definitions, not the jobs of cycles
/// saved before an upgrade.
@Suite("Cycle versions saved before a rule was added")
struct SavedVersionTests {
    @Test func aSavedVersionThatANewRuleWouldRefuseStillRunsItsJobs() async throws {
        try await CycleFixture.with { fixture in
            let cycle = try await fixture.cycle(#"{"name": "nested", "steps": []}"#)
            // Two splits at their default max_items (10^8 jobs from one delivery), as saved before the rule.
            let nested = """
                {"name": "nested", "steps": [
                  {"id": "orders", "type": "split", "path": "/orders"},
                  {"id": "lines", "type": "split", "path": "/lines"}]}
                """
            #expect(throws: CycleProblems.self) { try CycleDefinition.parse(Array(nested.utf8)).get() }
            let saved = PostgresJSON(rawJSON: nested)
            try await fixture.database.client.query(
                "UPDATE hookline.cycles SET definition = \(saved) WHERE id = \(cycle.id)")
            try await fixture.database.client.query(
                "UPDATE hookline.cycle_versions SET definition = \(saved) WHERE cycle_id = \(cycle.id)")
            let id = try await fixture.enqueue(cycle, #"{"orders": [{"lines": [1, 2]}, {"lines": [3]}]}"#)
            try await fixture.work {
                try await fixture.database.client.query(
                    "SELECT count(*) FROM hookline.job_history WHERE state = 'completed'"
                )[0].decode(Int.self, at: 0) == 1 + 2 + 3
            }
            #expect(try await fixture.finished([id])[id]?.outcome == "split")
        }
    }
}
