import Foundation
import Hookline
import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// One worker process's runtime: claims jobs in batches, runs up to `concurrency` of them at once, keeps
/// their leases alive, records each result, reaps expired leases and keeps history tidy; on graceful
/// shutdown it stops claiming, lets running jobs finish for `shutdownSeconds`, and hands the rest back.
///
/// Wake-up: a single claim loop per process, woken by NOTIFY on `hookline_jobs` (unless `pollOnly`), by a
/// finished job when the last claim came back full, or by the poll timer. A burst of notifications
/// coalesces into one claim; a process with no free slot does not claim at all; so a notification sends at
/// most one claim statement per process to the table, never one per job slot. Among the processes of one
/// supervisor, the ingress's notifications (a random number as payload) go first to one process only.
public final class Worker: Service, Sendable {
    public let name: String
    let settings: WorkerSettings
    let queue: JobQueue
    private let runner: any JobRunner
    let logger: Logger
    let metrics: WorkerMetrics
    private let listener: PostgresListener?
    private let completions: CompletionBatcher
    private let retry: UnreachableRetry
    private let definitions: CycleDefinitions
    private let wakeup = Wakeup()

    private struct State {
        var running: [Int64: WorkerRun] = [:]
        /// The number of the last run started: runs are told apart by it, since a job's attempt number can come
        /// round again (a delay's or a release's claim does not count one).
        var runs: UInt64 = 0
        var draining = false
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - database: the pool; `concurrency` plus a few connections is enough.
    ///   - definitions: the cycle definitions cache, shared with the runner.
    ///   - name: this worker's `locked_by`; by default host, process id and a random suffix.
    public init(
        settings: WorkerSettings, database: PostgresClient, runner: any JobRunner, logger: Logger,
        metrics: WorkerMetrics = WorkerMetrics(), definitions: CycleDefinitions? = nil, name: String? = nil
    ) {
        let name = name ?? Self.defaultName()
        self.name = name
        self.settings = settings
        self.queue = JobQueue(database: database)
        self.runner = runner
        self.logger = logger
        self.metrics = metrics
        self.completions = CompletionBatcher(queue: queue, worker: name)
        self.retry = UnreachableRetry(limit: .seconds(settings.leaseSeconds), logger: logger)
        self.definitions = definitions ?? CycleDefinitions(database: database)
        if settings.pollOnly {
            listener = nil
        } else {
            let wakeup = wakeup
            listener = PostgresListener(
                connectionString: database.configuration.listenConnectionString, channels: [JobNotifications.channel]
            ) { event in
                switch event {
                case .connected:
                    wakeup.workArrived()
                case .notification(let notification) where settings.namesAnotherProcess(notification.payload):
                    // Another process of this group goes first; look a little later in case it was busy.
                    Task {
                        try? await Task.sleep(for: settings.sharedWakeDelay)
                        wakeup.workArrived()
                    }
                case .notification:
                    wakeup.workArrived()
                case .disconnected:
                    break
                }
            }
        }
    }

    static func defaultName() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return "\(host)/\(getpid())/\(String(repeating: "0", count: 4 - suffix.count))\(suffix)"
    }

    /// Runs until a graceful shutdown (ServiceLifecycle's, or ``shutdown()``) has drained the worker.
    public func run() async throws {
        logger.info(
            "worker started",
            metadata: [
                "worker": "\(name)", "concurrency": "\(settings.concurrency)",
                "lease_seconds": "\(settings.leaseSeconds)", "wake_up": "\(settings.pollOnly ? "poll" : "listen")",
            ])
        await withTaskGroup(of: Void.self) { group in
            // The listener runs until graceful shutdown, or until the group is cancelled after the drain.
            if let listener { group.addTask { await listener.run() } }
            group.addTask { await self.heartbeats() }
            group.addTask { await self.maintenance() }
            await withGracefulShutdownHandler {
                await self.claimLoop()
            } onGracefulShutdown: {
                self.shutdown()
            }
            await drain()
            group.cancelAll()
        }
        logger.info("worker stopped", metadata: ["worker": "\(name)"])
    }

    /// Stops claiming and starts the drain; ``run()`` returns once it is over.
    public func shutdown() {
        state.withLock { $0.draining = true }
        wakeup.signal()
    }

    // MARK: Claiming

    private func claimLoop() async {
        let clock = ContinuousClock()
        var lastClaim = clock.now - settings.pollInterval
        var failures = 0
        // Until then every claimed job is leased, none finished inside the claim: after a worker died
        // (``WorkerSettings/leasedClaimsUntil``), and for a minute after a claim that failed on its data (a job
        // finished inside it that the database refused), so that the one at fault fails alone.
        var leaseAllUntil = settings.leasedClaimsUntil
        var mayHaveMore = true
        while true {
            let (draining, free) = state.withLock { state in
                (state.draining, settings.concurrency - state.running.count)
            }
            // Cancellation (a sibling service failed) ends the loop like a graceful shutdown.
            if draining || Task.isCancelled { return }
            if wakeup.takeWorkArrived() { mayHaveMore = true }
            let sinceClaim = lastClaim.duration(to: clock.now)
            if free > 0, mayHaveMore || sinceClaim >= settings.pollInterval {
                mayHaveMore = false
                lastClaim = clock.now
                let limit = min(free, settings.claimBatch)
                do {
                    let started = clock.now
                    let claimed = try await claim(limit: limit, leaseAll: leaseAllUntil.map { clock.now < $0 } ?? false)
                    metrics.claimLatency.record(started.duration(to: clock.now))
                    metrics.claimed.increment(by: Int64(claimed))
                    failures = 0
                    // A full batch says more may be waiting: claim again as soon as a slot is free (jobs
                    // finished in the claim left theirs free at once).
                    mayHaveMore = claimed == limit
                } catch {
                    failures += 1
                    logger.error("claiming jobs failed", metadata: ["error": "\(error)"])
                    if JobQueue.mayBeOneDeliverysFault(error) {
                        leaseAllUntil = max(leaseAllUntil ?? clock.now, clock.now + .seconds(60))
                    }
                    // Back off while the database is away: 0.1 s, 0.2 s, … up to the poll interval.
                    let pause = min(settings.pollInterval, .milliseconds(100) * (1 << min(failures, 6)))
                    await wakeup.wait(timeout: pause)
                }
                continue
            }
            let untilPoll = settings.pollInterval - sinceClaim
            await wakeup.wait(timeout: free > 0 && untilPoll > .zero ? untilPoll : settings.pollInterval)
        }
    }

    /// Claims up to `limit` jobs and starts them; returns how many it claimed.
    ///
    /// Jobs that need nothing but memory are run inside the claim's transaction and finished by its commit
    /// (``JobQueue/claim(limit:worker:leaseSeconds:finishing:)``); the others are leased and started. With
    /// `leaseAll` (after a worker died, or a claim failed on its data), every job is leased.
    private func claim(limit: Int, leaseAll: Bool) async throws -> Int {
        let clock = ContinuousClock()
        let started = clock.now
        let runner = runner
        let name = name
        let claim = try await queue.claim(limit: limit, worker: name, leaseSeconds: settings.leaseSeconds) {
            connection, jobs in
            if leaseAll { return [] }
            try runner.prepareInMemory(jobs, on: connection)
            return jobs.compactMap { job in
                guard case .completed(let outcome, let checkpoint, let runs) = runner.runInMemory(job, worker: name)
                else { return nil }
                return JobQueue.Completion(
                    id: job.id, attempt: job.attempt, outcome: outcome, checkpoint: checkpoint, runs: runs)
            }
        }
        if !claim.finished.isEmpty {
            let elapsed = started.duration(to: clock.now)
            for _ in claim.finished { metrics.jobDuration.record(elapsed) }
            metrics.completed.increment(by: Int64(claim.finished.count))
        }
        start(claim.leased)
        return claim.leased.count + claim.finished.count
    }

    /// Gives each leased job a task; it holds its slot (and its place in heartbeats) until recorded.
    private func start(_ jobs: [ClaimedJob]) {
        guard !jobs.isEmpty else { return }
        metrics.running.increment(by: Double(jobs.count))
        let overtaken = state.withLock { state in
            jobs.compactMap { job in
                // A run of the job still here is ending (it postponed or failed the job, which came back at
                // once) or lost its lease (its heartbeats failed until the lease ran out, and the job came
                // back): the new run replaces it, and the old one is cancelled. A run of another attempt is
                // counted as a lost lease (an ending one that failed the job is counted too: it cannot be told
                // apart here); whatever a lost lease's run still records is refused, since it names its attempt.
                let earlier = state.running[job.id]
                earlier?.task.cancel()
                state.runs += 1
                let number = state.runs
                state.running[job.id] = WorkerRun(
                    number: number, attempt: job.attempt, task: Task { await self.execute(job, run: number) })
                return earlier.map { $0.attempt != job.attempt } == true ? job.id : nil
            }
        }
        overtaken.forEach(lostLease)
    }

    // MARK: Running one job

    private func execute(_ job: ClaimedJob, run: UInt64) async {
        let clock = ContinuousClock()
        let started = clock.now
        defer {
            state.withLock { state in
                if state.running[job.id]?.number == run { state.running[job.id] = nil }
            }
            metrics.running.decrement()
            wakeup.signal()
        }
        let result: JobResult
        do {
            result = try await runner.run(job, worker: name)
        } catch is CancellationError {
            return  // shutting down or lost: the drain hands it back, or its new owner runs it
        } catch is LeaseLost {
            lostLease(job.id)
            return
        } catch {
            if Task.isCancelled { return }  // the error may be the cancellation itself (a statement cut short)
            result = .failed(error: String(describing: error), permanent: false)
        }
        if Task.isCancelled {
            // The lease was lost: its new owner runs the job. Or the drain cancelled the run: a failure now may
            // be the interruption itself, so it is not recorded and the drain hands the job back with the
            // attempt uncounted; a job that finished all the same is recorded.
            guard state.withLock({ $0.draining }), case .completed = result else { return }
        }
        // Recorded in a task of its own, so that a cancellation arriving now cannot abort the statement.
        await Task { await self.record(result, of: job) }.value
        metrics.jobDuration.record(started.duration(to: clock.now))
    }

    /// Records a job's result. A completion that fails because the database cannot be reached is tried again
    /// (``UnreachableRetry``), not while the worker drains. Only completions: `complete_jobs` requires the
    /// lease and deletes the job, so a retry after a first try that did commit (its answer lost) finds nothing
    /// to change (and counts a lost lease). A failure is recorded once: a `fail` that committed unseen makes
    /// the job claimable again, by this worker too, and a retry would then find it held and record the old
    /// error against the new attempt.
    private func record(_ result: JobResult, of job: ClaimedJob) async {
        do {
            guard case .completed = result else { return try await recordOnce(result, of: job) }
            try await retry.run(
                "recording a job's result", job: job.id, keepTrying: { !state.withLock { $0.draining } }
            ) {
                try await recordOnce(result, of: job)
            }
        } catch  where Self.isCompletion(result) && JobQueue.isUnstorable(error) {
            // The database refused what the job left (its data, not the connection): it would refuse it again
            // on every attempt, so the job fails for good with the reason, rather than going round on leases.
            logger.error("storing a job's result failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
            let message = (error as? PostgresError)?.message ?? "\(error)"
            await record(
                .failed(
                    error: "the job finished, but its result could not be stored: \(message)",
                    permanent: true),
                of: job)
        } catch {
            // The job stays `running` under this worker's lease: if the heartbeat also fails, the lease runs
            // out and the reaper gives the job another attempt; nothing is lost.
            logger.error("recording a job's result failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    private static func isCompletion(_ result: JobResult) -> Bool {
        if case .completed = result { return true }
        return false
    }

    private func recordOnce(_ result: JobResult, of job: ClaimedJob) async throws {
        switch result {
        case .postponed:
            break
        case .completed(let outcome, let checkpoint, let runs):
            let completion = JobQueue.Completion(
                id: job.id, attempt: job.attempt, outcome: outcome, checkpoint: checkpoint, runs: runs)
            if try await completions.complete(completion) {
                metrics.completed.increment()
            } else {
                lostLease(job.id)
            }
        case .failed(let error, let permanent, let retryAfter, let checkpoint, let runs):
            let policy = try await definitions.policy(for: job)
            let outcome = try await queue.fail(
                job.id, attempt: job.attempt, worker: name, error: error, permanent: permanent, policy: policy,
                delay: retryAfter,
                checkpoint: checkpoint, runs: runs)
            switch outcome {
            case .retrying(let at):
                metrics.retried.increment()
                logger.info(
                    "job failed; retrying",
                    metadata: [
                        "job": "\(job.id)", "attempt": "\(job.attempt)", "error": "\(error)",
                        "run_at": "\(at.formatted(.iso8601))",
                    ])
            case .dead:
                metrics.dead.increment()
                logger.warning(
                    "job dead",
                    metadata: [
                        "job": "\(job.id)", "attempt": "\(job.attempt)", "error": "\(error)",
                        "permanent": "\(permanent)",
                    ])
            case .notHeld:
                lostLease(job.id)
            }
        }
    }

    private func lostLease(_ id: Int64) {
        metrics.lost.increment()
        logger.warning("lost the lease of a job: another worker has it now", metadata: ["job": "\(id)"])
    }

    // MARK: Leases

    /// Extends the leases of running jobs every third of the lease; a job whose lease another worker took
    /// over (this process stalled past it) is cancelled here, since its new owner runs it.
    private func heartbeats() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.heartbeatInterval)
            let ids = state.withLock { Array($0.running.keys) }
            guard !ids.isEmpty else { continue }
            do {
                let held = try await queue.heartbeat(
                    ids, worker: name, leaseSeconds: settings.leaseSeconds,
                    renewWithinSeconds: settings.renewWithinSeconds)
                let lost = state.withLock { state in
                    ids.filter { !held.contains($0) }.compactMap { id in state.running[id].map { (id, $0.task) } }
                }
                for (id, task) in lost {
                    lostLease(id)
                    task.cancel()
                }
            } catch {
                if Task.isCancelled { break }
                logger.error("extending leases failed", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Shutdown

    /// Waits up to `shutdownSeconds` for running jobs, cancels those still running, and hands them back
    /// without counting their attempt.
    private func drain() async {
        state.withLock { $0.draining = true }  // also after a cancellation: results are no longer retried
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(settings.shutdownSeconds)
        var count = state.withLock { $0.running.count }
        if count > 0 {
            logger.info(
                "draining: waiting for running jobs",
                metadata: ["jobs": "\(count)", "shutdown_seconds": "\(settings.shutdownSeconds)"])
        }
        while count > 0, clock.now < deadline {
            await wakeup.wait(timeout: min(.milliseconds(100), clock.now.duration(to: deadline)))
            count = state.withLock { $0.running.count }
        }
        let unfinished = state.withLock { $0.running }
        guard !unfinished.isEmpty else { return }
        for run in unfinished.values { run.task.cancel() }
        for run in unfinished.values { await run.task.value }
        do {
            let released = try await queue.release(Array(unfinished.keys), worker: name)
            metrics.released.increment(by: Int64(released.count))
            logger.info("handed unfinished jobs back to the queue", metadata: ["jobs": "\(released.count)"])
        } catch {
            logger.error(
                "handing jobs back failed; they return when their lease runs out",
                metadata: ["jobs": "\(unfinished.count)", "error": "\(error)"])
        }
    }
}
