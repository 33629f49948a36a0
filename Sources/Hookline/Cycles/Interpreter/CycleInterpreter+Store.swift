import Foundation
import Postgres

extension CycleInterpreter {
    /// A `store` step: its value is kept under its key for the cycle's lookups, in its checkpoint's transaction.
    mutating func store(
        _ step: CycleDefinition.Step, key: Template, value: CycleDefinition.Value, at index: Int, started: Date,
        _ effects: some CycleEffects
    ) async throws {
        guard let cycle = job.cycleID else { return }
        let context = templateContext
        let key = try key.render(context)
        guard !key.isEmpty else { throw StepFailure(message: "the key rendered empty", permanent: true) }
        let stored = try evaluate(value, context: context)
        outputs[step.id] = .object(["key": .string(key), "value": stored])
        pending.append(record(step, started: started, outcome: .succeeded))
        try await effects.save(
            job: job.id, checkpoint(next: index + 1), runs: pending,
            with: .store(cycle: cycle, key: key, value: PostgresJSON(bytes: stored.storedBytes)))
        pending = []
    }
}
