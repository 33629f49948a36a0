import Foundation
import Hookline
import Postgres

extension CycleRun {
    /// A `store` step: upserts its value into `hookline.cycle_data`, in its checkpoint's transaction.
    mutating func store(
        _ step: CycleDefinition.Step, key: Template, value: CycleDefinition.Value, at index: Int, started: Date,
        _ runner: CycleRunner
    ) async throws {
        guard let cycle = job.cycleID else { return }
        let context = templateContext
        let key = key.render(context)
        guard !key.isEmpty else { throw StepFailure(message: "the key rendered empty", permanent: true) }
        let stored = evaluate(value, context: context)
        outputs[step.id] = .object(["key": .string(key), "value": stored])
        pending.append(record(step, started: started, outcome: .succeeded))
        let json = PostgresJSON(bytes: stored.bytes)
        try await runner.queue.checkpoint(job.id, worker: worker, checkpoint(next: index + 1), runs: pending) {
            connection in
            try connection.query(
                """
                INSERT INTO hookline.cycle_data (cycle_id, key, value) VALUES (\(cycle), \(key), \(json))
                ON CONFLICT (cycle_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                """)
        }
        pending = []
    }
}
