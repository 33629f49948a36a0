import Foundation
import Postgres

extension CycleInterpreter {
    /// One child job per element, each running the steps after this one with the element as its payload, in
    /// one transaction with the parent's checkpoint; the parent is then done (outcome `split`).
    ///
    /// An array of more than `maxItems` elements ends the job `dead` at once, whatever the cycle's `on_error`,
    /// and makes no child. A child row holds its element, the parent's ids and policy, and of the parent's
    /// outputs and headers only those the steps after the split read (``CycleDefinition/inputs(ofStepsFrom:)``):
    /// a large earlier output, or the delivery's headers, is not copied a thousand times over. Children whose
    /// copies of those outputs would add up to more than ``maxCopiedOutputBytes`` are not made either: the job
    /// ends `dead`, so that one job cannot write gigabytes into the shared database in one transaction.
    mutating func split(
        _ step: CycleDefinition.Step, source: CycleDefinition.Source, pointer: JSONPointer, maxItems: Int,
        at index: Int, started: Date, _ effects: some CycleEffects
    ) async throws -> JobResult {
        guard let elements = pointer.resolve(in: self.source(source))?.array else {
            throw StepFailure(message: "\(pointer) is not an array", permanent: true)
        }
        guard elements.count <= maxItems else {
            return refuse(
                step, "the array at \(pointer) has \(elements.count) elements, more than max_items (\(maxItems))",
                at: index, started: started)
        }
        let inputs = definition.inputs(ofStepsFrom: index + 1)
        let read = inputs.steps.map { ids in outputs.filter { ids.contains($0.key) } } ?? outputs
        let childOutputs = PostgresJSON(bytes: JSON.object(read).storedBytes)
        let copied = elements.count * childOutputs.bytes.count
        guard copied <= Self.maxCopiedOutputBytes else {
            return refuse(
                step,
                "the \(elements.count) children would copy \(copied) bytes of earlier step outputs,"
                    + " more than \(Self.maxCopiedOutputBytes)", at: index, started: started)
        }
        outputs[step.id] = .object(["children": .int(Int64(elements.count))])
        pending.append(record(step, started: started, outcome: .succeeded))
        let bodies = elements.map { Data($0.bytes) }
        try await effects.save(
            job: job.id, checkpoint(next: definition.steps.count), runs: pending,
            with: .children(nextStep: index + 1, outputs: childOutputs, bodies: bodies, copyHeaders: inputs.headers))
        pending = []
        return .completed(outcome: .split)
    }

    /// The most bytes of earlier outputs a split's children may copy between them (256 MiB).
    static let maxCopiedOutputBytes = 256 << 20

    /// A split over one of its limits: the job ends dead at once, whatever `on_error` says, with no child.
    private mutating func refuse(_ step: CycleDefinition.Step, _ reason: String, at index: Int, started: Date)
        -> JobResult
    {
        let failure = StepFailure(message: reason + ": no child job was made", permanent: true)
        pending.append(record(step, started: started, outcome: .failed, failure: failure))
        return .failed(
            error: "step \(step.id): \(failure.message)", permanent: true, checkpoint: checkpoint(next: index),
            runs: pending)
    }
}
