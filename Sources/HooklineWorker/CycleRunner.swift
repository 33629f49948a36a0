import Foundation
import Hookline
import Postgres

/// Runs a job's cycle, step by step, from the step it stopped at.
///
/// Steps without effects outside the job (`filter`, `map`) run in memory and their step runs are written
/// with whatever the job does next. A step with effects (`http`, `store`, `split`, `delay`) is followed at
/// once by a checkpoint (its output and the next step, in one transaction with its own writes for `store` and
/// `split`), so that a retry never repeats it. `http` steps also write their step run when they start, so
/// that a call cut short by a crash is on record. Each step's work is in a `CycleRun+<step>.swift` file.
public struct CycleRunner: JobRunner {
    let queue: JobQueue
    let database: PostgresClient
    let definitions: CycleDefinitions
    let caller: HTTPCaller

    public init(database: PostgresClient, definitions: CycleDefinitions, caller: HTTPCaller) {
        self.database = database
        self.queue = JobQueue(database: database)
        self.definitions = definitions
        self.caller = caller
    }

    public func run(_ job: ClaimedJob, worker: String) async throws -> JobResult {
        let definition: CycleDefinition
        do {
            guard let found = try await definitions.definition(for: job) else {
                return .completed(outcome: .succeeded)
            }
            definition = found
        } catch let error as HooklineError {
            return .failed(error: error.description, permanent: true)
        } catch let problems as CycleProblems {
            return .failed(error: "the cycle version is invalid: \(problems)", permanent: true)
        }
        var run = CycleRun(job: job, worker: worker, definition: definition)
        return try await run.execute(self)
    }

    /// Reads the cycle definitions of these jobs that this worker has not seen yet, in the claim's
    /// transaction, so that even a worker's first batch runs in memory.
    public func prepareInMemory(_ jobs: [ClaimedJob], on connection: PostgresConnection) throws {
        try definitions.load(missingFor: jobs, on: connection)
    }

    /// Runs the job at once when what is left of its cycle runs in memory (`filter`, and `map` without
    /// lookups) and its definition is already known: no task, no suspension, for the cycles that are
    /// pure computation. Nil when the job needs ``run(_:worker:)``.
    public func runInMemory(_ job: ClaimedJob, worker: String) -> JobResult? {
        guard job.cycleID != nil else { return .completed(outcome: .succeeded) }
        guard let definition = definitions.cached(for: job),
            definition.steps.dropFirst(job.nextStep).allSatisfy(\.runsInMemory)
        else { return nil }
        var run = CycleRun(job: job, worker: worker, definition: definition)
        return run.executeInMemory()
    }
}

extension CycleDefinition.Step {
    /// Whether the step needs nothing but the job: `filter`, and `map` without `lookup` values.
    var runsInMemory: Bool {
        switch action {
        case .filter: return true
        case .map(let fields):
            return !fields.values.contains { value in
                if case .lookup = value { return true }
                return false
            }
        default: return false
        }
    }
}
