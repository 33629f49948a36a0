import Foundation
import Postgres
import Testing

@testable import Hookline

/// Outputs saved by earlier steps and read back when the job resumes (after a delay, a retry, or in a split's
/// child): they can nest deeper than a payload may, since a step can put an earlier output one level down.
@Suite("Saved outputs read back")
struct SavedOutputTests {
    func resumed(outputs: String) -> ClaimedJob {
        var job = CycleInterpreterTests().job("{}")
        (job.attempt, job.nextStep, job.stepOutputs) = (2, 1, PostgresJSON(rawJSON: outputs))
        return job
    }

    let definition = try! CycleDefinition.parse(
        Array(
            """
            {"name": "deep", "steps": [
              {"id": "m", "type": "map", "fields": {"x": "/a"}},
              {"id": "n", "type": "map", "fields": {"y": {"pointer": "/x", "from": "m"}}}]}
            """.utf8)
    ).get()

    @Test func outputsDeeperThanAPayloadMayBeAreReadBack() throws {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        var run = CycleInterpreter(job: resumed(outputs: #"{"m": {"x": \#(deep)}}"#), definition: definition)
        guard case .completed(.succeeded, let checkpoint?, _) = run.executeInMemory() else {
            Issue.record("the run did not complete")
            return
        }
        let outputs = try JSON(parsing: checkpoint.outputs.bytes, maxDepth: CycleInterpreter.maxOutputDepth)
        let saved = try JSON(parsing: Array(deep.utf8), maxDepth: CycleInterpreter.maxOutputDepth)
        #expect(outputs["n"]?["y"] == saved, "the earlier output was read back whole")
    }

    @Test func outputsThatCannotBeReadFailTheJobInsteadOfVanishing() {
        let deep = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        var run = CycleInterpreter(job: resumed(outputs: #"{"m": {"x": \#(deep)}}"#), definition: definition)
        guard case .failed(let error, true, nil, nil, []) = run.executeInMemory() else {
            Issue.record("the run did not fail for good, leaving its saved outputs as they were")
            return
        }
        #expect(error.hasPrefix("the job's saved step outputs cannot be read: invalid JSON at byte"))
    }
}
