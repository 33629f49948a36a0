/// Settings of the worker runtime (`hookline work`), with the defaults that DESIGN.md and the issues fix.
public struct WorkerSettings: Sendable, Hashable {
    /// Worker processes the supervisor keeps running.
    public var processes: Int
    /// Jobs each worker process runs at once.
    public var concurrency: Int
    /// How long a claimed job is held before another worker may reclaim it.
    public var leaseSeconds: Int
    /// Poll instead of LISTEN (behind a transaction-mode pooler).
    public var pollOnly: Bool
    /// Days of finished jobs kept in `job_history`.
    public var historyDays: Int

    public init(
        processes: Int = 1, concurrency: Int = 8, leaseSeconds: Int = 30, pollOnly: Bool = false,
        historyDays: Int = 31
    ) {
        self.processes = processes
        self.concurrency = concurrency
        self.leaseSeconds = leaseSeconds
        self.pollOnly = pollOnly
        self.historyDays = historyDays
    }
}
