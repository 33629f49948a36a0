import Foundation
import Postgres
import Testing

@testable import Hookline

/// ``CycleLimits/maxOutputBytes``: what a job's step outputs may come to. Outputs are built by reference, so a
/// map that copies an earlier output into two fields doubles what the job holds at every step at no cost of its
/// own; the next step's templates, the checkpoint and the history row would then each go through all of it.
@Suite("The bound on a job's step outputs")
struct CycleOutputLimitTests {
    /// `m0` copies the payload's text; each later map copies the one before into two fields.
    func doubling(steps: Int) throws -> CycleDefinition {
        let maps = (1..<steps).map { index in
            """
            {"id": "m\(index)", "type": "map", "fields": {
              "a": {"pointer": "", "from": "m\(index - 1)"}, "b": {"pointer": "", "from": "m\(index - 1)"}}}
            """
        }
        let first = #"{"id": "m0", "type": "map", "fields": {"s": "/s"}}"#
        let text = #"{"name": "doubling", "steps": [\#(([first] + maps).joined(separator: ","))]}"#
        return try CycleDefinition.parse(Array(text.utf8)).get()
    }

    func job(_ body: String) -> ClaimedJob { CycleInterpreterTests().job(body) }

    @Test func mapsThatDoubleTheirOutputStepAfterStepFailForGoodAtTheBound() throws {
        // Unbounded, the twentieth map holds 2^19 copies of the text: 10 MB written, and as many values
        // converted for every later step's templates.
        var run = CycleInterpreter(
            job: job(#"{"s": "0123456789"}"#), definition: try doubling(steps: 20),
            limits: CycleLimits(maxOutputBytes: 1 << 20))
        guard case .failed(let error, let permanent, _, let checkpoint?, let runs) = run.executeInMemory() else {
            Issue.record("the run was not failed")
            return
        }
        #expect(permanent)
        #expect(
            error.hasSuffix(
                "its output would bring the job's step outputs past 1048576 bytes (hookline work --max-output-bytes)"))
        #expect(checkpoint.outputs.bytes.count <= 1 << 20, "what is kept is within the bound")
        #expect(runs.last?.outcome == .failed)
        #expect(runs.dropLast().allSatisfy { $0.outcome == .succeeded })
        #expect(runs.count < 20)
    }

    @Test func aStoreOfAValueOverTheBoundWritesNothing() async throws {
        let definition = try CycleDefinition.parse(
            Array(
                #"{"name": "keep", "steps": [{"id": "keep", "type": "store", "key": "k", "value": {"pointer": ""}}]}"#
                    .utf8)
        ).get()
        let effects = RecordingEffects()
        var run = CycleInterpreter(
            job: job(#"{"s": "\#(String(repeating: "x", count: 3000))"}"#), definition: definition,
            limits: CycleLimits(maxOutputBytes: 2000))
        guard case .failed(let error, true, _, _, _) = try await run.execute(effects) else {
            Issue.record("the store was not failed for good")
            return
        }
        #expect(error.contains("--max-output-bytes"))
        #expect(effects.events.isEmpty, "nothing stored")
    }

    @Test func theSizeOfAValueSharedManyTimesOverIsCountedOnlyUpToTheLimit() {
        var value = JSON.string("0123456789")
        for _ in 0..<64 { value = .object(["a": value, "b": value]) }
        #expect(value.size(atMost: 1 << 20) == nil)
        // As written, give or take a byte an object (its last field's comma).
        let object = JSON.object(["ab": .string("xyz"), "n": .int(-12)])
        #expect(object.size(atMost: 100) == object.bytes.count + 1)
        // Numbers count as they are written: a body of small numbers is not counted many times its size.
        for number in [
            JSON.int(7), .int(-1_234_567), .int(.min), .double(12.5), .double(3), .double(-1e300), .double(0.1),
        ] {
            #expect(number.size(atMost: 100) == number.bytes.count, "\(number)")
        }
    }
}
