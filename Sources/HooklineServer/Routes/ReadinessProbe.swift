import Postgres
import Synchronization

/// Whether the database answers `SELECT 1`, told within a deadline whatever the database does.
///
/// A task group that raced the statement against a timer still waited for the cancelled statement, which
/// against a silent server ends only at the pool's answer timeout (the database timeout and 5 s more), so
/// `/readyz` outlasted a balancer's check. The statement now runs in a task of its own that the answer does
/// not wait for, and few at a time: checks that come while it runs wait on it, and a new one starts only once
/// it is older than the deadline (the database may be back while it is stuck on a silent connection), so a
/// silent database holds a pool request per deadline at most, not one per check.
final class ReadinessProbe: Sendable {
    private let database: PostgresClient
    private let running = Mutex<(task: Task<Bool, Never>, started: ContinuousClock.Instant)?>(nil)

    init(database: PostgresClient) { self.database = database }

    /// True when `SELECT 1` (this call's, or one already running) answered within `deadline`.
    func answer(within deadline: Duration) async -> Bool {
        let now = ContinuousClock.now
        let probe = running.withLock { current in
            if let current, current.started.duration(to: now) < deadline { return current.task }
            let task = Task { [database] in (try? await database.query("SELECT 1")) != nil }
            current = (task, now)
            return task
        }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer = FirstAnswer(continuation)
            let timer = Task {
                try? await Task.sleep(for: deadline)
                answer.give(false)
            }
            Task {
                let reachable = await probe.value
                self.running.withLock { if $0?.task == probe { $0 = nil } }
                answer.give(reachable)
                timer.cancel()
            }
        }
    }

    /// A continuation resumed by the first of its answers.
    private final class FirstAnswer: Sendable {
        private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

        init(_ continuation: CheckedContinuation<Bool, Never>) { self.continuation = Mutex(continuation) }

        func give(_ value: Bool) { continuation.withLock { $0.take() }?.resume(returning: value) }
    }
}
