import Foundation
import Postgres
import Synchronization

/// Lets callers wait for jobs to finish (an MCP tool call waits for its job), with one query for all of them.
///
/// While anyone waits, a single loop reads `job_history` for every awaited id every `interval` and resumes
/// the waiters whose jobs have arrived there; it stops when nobody waits. Polling instead of a NOTIFY from the
/// completion statement keeps the workers' hot path free of any cost for jobs nobody waits for; at the
/// default 1 ms the loop adds about half a millisecond to a call on average, and one indexed look-up per tick
/// (the first tick comes one interval after the first waiter, when its job may be done).
///
/// Bounded: at most `maxWaiters` waiters at once (each an MCP call in flight); past that, ``wait(for:since:timeout:)``
/// returns at once, as if the job were still running.
public final class JobWaiter: Sendable {
    private struct Waiter {
        var id: Int64
        var since: Date
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<FinishedJob?, Never>
    }

    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        var nextToken: UInt64 = 0
        var polling = false
    }

    private let database: PostgresClient
    private let interval: Duration
    private let maxWaiters: Int
    private let state = Mutex(State())

    /// Waiters at most (`hookline serve --mcp-max-waiting-calls`).
    public static let defaultMaxWaiters = 10_000

    public init(database: PostgresClient, interval: Duration = .milliseconds(1), maxWaiters: Int = defaultMaxWaiters) {
        self.database = database
        self.interval = interval
        self.maxWaiters = maxWaiters
    }

    /// The job once it is in history, or nil when it is not within `timeout` (or the wait is cancelled).
    /// `since` is a time the job had not finished by (when it was enqueued, or when it was seen unfinished),
    /// which bounds the history partitions read.
    public func wait(for id: Int64, since: Date, timeout: Duration) async -> FinishedJob? {
        let token = state.withLock { state -> UInt64 in
            state.nextToken += 1
            return state.nextToken
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<FinishedJob?, Never>) in
                let start = state.withLock { state -> Bool? in
                    guard state.waiters.count < maxWaiters, !Task.isCancelled else { return nil }
                    state.waiters[token] = Waiter(
                        id: id, since: since, deadline: .now + timeout, continuation: continuation)
                    defer { state.polling = true }
                    return !state.polling
                }
                switch start {
                case nil: continuation.resume(returning: nil)
                case true?: Task { await poll() }
                case false?: break
                }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: token) }?.continuation.resume(returning: nil)
        }
    }

    /// How many callers wait now.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    private func poll() async {
        while true {
            try? await Task.sleep(for: interval)
            // The waiters of now decide what is read: the earliest `since` among them, not among all so far.
            let (ids, since) = state.withLock { state -> ([Int64], Date?) in
                if state.waiters.isEmpty {
                    state.polling = false
                    return ([], nil)
                }
                return (Array(Set(state.waiters.values.map(\.id))), state.waiters.values.map(\.since).min())
            }
            guard let since else { return }
            var finished: [Int64: FinishedJob] = [:]
            do {
                for job in try await Self.finished(ids, since: since, on: database) { finished[job.id] = job }
            } catch {
                // The database is away: the waiters keep waiting until their deadlines.
            }
            let now = ContinuousClock.now
            let resumed = state.withLock { state -> [(Waiter, FinishedJob?)] in
                let done = state.waiters.filter { finished[$0.value.id] != nil || $0.value.deadline <= now }
                for token in done.keys { state.waiters.removeValue(forKey: token) }
                return done.values.map { ($0, finished[$0.id]) }
            }
            for (waiter, job) in resumed { waiter.continuation.resume(returning: job) }
        }
    }

    /// The jobs of `ids` that are in history. Finishing writes `finished_at` with the database's clock, so
    /// `since` is taken a minute early to allow for a clock that differs from this host's.
    public static func finished(_ ids: [Int64], since: Date, on database: PostgresClient) async throws
        -> [FinishedJob]
    {
        try await database.query(
            """
            SELECT id, state, outcome, step_outputs, last_error, attempt FROM hookline.job_history
            WHERE id = ANY(\(ids)::bigint[]) AND finished_at >= \(since.addingTimeInterval(-60))
            """
        ).map { row in
            let (id, state, outcome, outputs, lastError, attempt) = try row.decode(
                (Int64, JobState, JobOutcome?, PostgresJSON, String?, Int).self)
            return FinishedJob(
                id: id, state: state, outcome: outcome,
                stepOutputs: try JSON(parsing: outputs.bytes, maxDepth: CycleInterpreter.maxOutputDepth),
                lastError: lastError, attempt: attempt)
        }
    }
}
