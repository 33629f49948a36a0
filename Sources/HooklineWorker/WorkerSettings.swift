/// Settings of the worker runtime (`hookline work`), with the defaults that DESIGN.md and the issues fix.
public struct WorkerSettings: Sendable, Hashable {
    /// Worker processes the supervisor keeps running.
    public var processes: Int
    /// Jobs each worker process runs at once.
    public var concurrency: Int
    /// How long a claimed job is held before another worker may reclaim it; heartbeats extend it every
    /// third of this while the job runs.
    public var leaseSeconds: Int
    /// Poll instead of LISTEN (behind a transaction-mode pooler, where LISTEN does not work).
    public var pollOnly: Bool
    /// How often an idle worker looks for jobs without being notified: due retries, and a missed
    /// notification, are found this way.
    public var pollInterval: Duration
    /// Days of finished jobs kept in `job_history`.
    public var historyDays: Int
    /// After SIGTERM, how long running jobs may take to finish before they are handed back.
    public var shutdownSeconds: Int
    /// Most jobs claimed by one statement.
    public var claimBatch: Int

    public init(
        processes: Int = 1, concurrency: Int = 8, leaseSeconds: Int = 30, pollOnly: Bool = false,
        pollInterval: Duration = .seconds(1), historyDays: Int = 31, shutdownSeconds: Int = 25, claimBatch: Int = 100
    ) {
        self.processes = processes
        self.concurrency = concurrency
        self.leaseSeconds = leaseSeconds
        self.pollOnly = pollOnly
        self.pollInterval = pollInterval
        self.historyDays = historyDays
        self.shutdownSeconds = shutdownSeconds
        self.claimBatch = claimBatch
    }

    /// The time between heartbeats: a third of the lease, so that two can be missed before it runs out.
    var heartbeatInterval: Duration { .milliseconds(max(200, leaseSeconds * 1000 / 3)) }

    /// The time between runs of the reaper.
    var reaperInterval: Duration { .milliseconds(max(500, leaseSeconds * 1000 / 2)) }
}
