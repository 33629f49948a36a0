import Hookline
import Logging
import Postgres

/// Runs a job's cycle from the step it stopped at: finds the job's cycle definition and hands the run to
/// ``CycleInterpreter``, with the worker's effects (the queue, the HTTP client).
public struct CycleRunner: JobRunner {
    let queue: JobQueue
    let definitions: CycleDefinitions
    let caller: HTTPCaller
    let retry: UnreachableRetry
    let limits: CycleLimits

    /// - Parameters:
    ///   - leaseSeconds: the workers' lease (``WorkerSettings/leaseSeconds``): how long a checkpoint that
    ///     cannot reach the database is tried again.
    ///   - limits: what one run may take of the worker (``WorkerSettings/cycleLimits``).
    public init(
        database: PostgresClient, definitions: CycleDefinitions, caller: HTTPCaller,
        leaseSeconds: Int = WorkerSettings().leaseSeconds, limits: CycleLimits = CycleLimits(),
        logger: Logger = Logger(label: "hookline.worker")
    ) {
        self.queue = JobQueue(database: database)
        self.definitions = definitions
        self.caller = caller
        self.retry = UnreachableRetry(limit: .seconds(leaseSeconds), logger: logger)
        self.limits = limits
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
        var run = CycleInterpreter(job: job, definition: definition, limits: limits)
        return try await run.execute(
            WorkerEffects(queue: queue, caller: caller, worker: worker, attempt: job.attempt, retry: retry))
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
        guard let definition = definitions.cached(for: job), definition.runsInMemory(from: job.nextStep) else {
            return nil
        }
        var run = CycleInterpreter(job: job, definition: definition, limits: limits)
        return run.executeInMemory()
    }
}
