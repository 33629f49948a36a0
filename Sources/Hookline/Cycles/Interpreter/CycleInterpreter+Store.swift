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
        if let problem = Self.problem(withKey: key) { throw StepFailure(message: problem, permanent: true) }
        let stored = try evaluate(value, context: context)
        try keep(.object(["key": .string(key), "value": stored]), of: step)
        pending.append(record(step, started: started, outcome: .succeeded))
        try await effects.save(
            job: job.id, checkpoint(next: index + 1), runs: pending,
            with: .store(cycle: cycle, key: key, value: PostgresJSON(bytes: stored.storedBytes)))
        pending = []
    }

    /// The longest key a `store` step keeps, in UTF-8 bytes: with its cycle's id, a key is one entry of the
    /// primary-key index of `hookline.cycle_data`, and a B-tree entry holds at most about 2,700 bytes.
    static let maxKeyBytes = 2048

    /// Why `key` cannot be a stored value's key (it would fail the same way on every attempt), or nil.
    static func problem(withKey key: String) -> String? {
        if key.isEmpty { return "the key rendered empty" }
        if key.utf8.count > maxKeyBytes {
            return "the key is \(key.utf8.count) bytes, more than \(maxKeyBytes)"
        }
        if key.utf8.contains(0) { return "the key contains U+0000, which PostgreSQL text cannot hold" }
        return nil
    }
}
