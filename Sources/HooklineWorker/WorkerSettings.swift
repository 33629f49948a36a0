import Hookline

/// Settings of the worker runtime (`hookline work`), with their defaults.
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
    /// Destination look-ups (DNS) of `http` steps at once, per worker process: the threads of its resolver
    /// pool (at most ``mostDNSConcurrency``).
    public var dnsConcurrency: Int
    /// What one run of a job may take of the worker: its templates' output, its steps' outputs.
    public var cycleLimits: CycleLimits
    /// This process's place among the worker processes of one supervisor (`groupIndex` of `groupSize`). A
    /// notification whose payload is a number goes first to the process it names (number modulo size); the
    /// others look `sharedWakeDelay` later, in case that one was busy, so that one notification does not
    /// send every process at the table at once.
    public var groupIndex: Int
    public var groupSize: Int
    public var sharedWakeDelay: Duration
    /// Until then, every claimed job is leased and run as usual, none finished inside the claim's
    /// transaction. The supervisor sets it for a worker that replaces one that died: a job that kills its
    /// worker while being finished in the claim's transaction would otherwise come back with its attempt
    /// uncounted, again and again.
    public var leasedClaimsUntil: ContinuousClock.Instant?

    public init(
        processes: Int = 1, concurrency: Int = 8, leaseSeconds: Int = 30, pollOnly: Bool = false,
        pollInterval: Duration = .seconds(1), historyDays: Int = 31, shutdownSeconds: Int = 25, claimBatch: Int = 100,
        groupIndex: Int = 0, groupSize: Int = 1, sharedWakeDelay: Duration = .milliseconds(20),
        leasedClaimsUntil: ContinuousClock.Instant? = nil, dnsConcurrency: Int = HTTPCaller.defaultResolverThreads,
        cycleLimits: CycleLimits = CycleLimits()
    ) {
        self.processes = processes
        self.concurrency = concurrency
        self.leaseSeconds = leaseSeconds
        self.pollOnly = pollOnly
        self.pollInterval = pollInterval
        self.historyDays = historyDays
        self.shutdownSeconds = shutdownSeconds
        self.claimBatch = claimBatch
        self.groupIndex = groupIndex
        self.groupSize = groupSize
        self.sharedWakeDelay = sharedWakeDelay
        self.leasedClaimsUntil = leasedClaimsUntil
        self.dnsConcurrency = dnsConcurrency
        self.cycleLimits = cycleLimits
    }

    /// The most `dnsConcurrency` may be: each look-up at once is a thread.
    public static let mostDNSConcurrency = 1_024

    /// Whether a notification with this payload names another process of the group.
    func namesAnotherProcess(_ payload: String) -> Bool {
        guard groupSize > 1, let token = Int(payload), token >= 0 else { return false }
        return token % groupSize != groupIndex
    }

    /// The time between heartbeats: a third of the lease, so that two can be missed before it runs out.
    var heartbeatInterval: Duration { .milliseconds(max(200, leaseSeconds * 1000 / 3)) }

    /// The heartbeat renews a lease only when less than this is left: a lease that lasts half an interval
    /// beyond the next heartbeat can wait for that one, so jobs that finish within seconds are never
    /// rewritten.
    var renewWithinSeconds: Double { Double(leaseSeconds) - heartbeatInterval / .seconds(1) / 2 }

    /// The time between runs of the reaper.
    var reaperInterval: Duration { .milliseconds(max(500, leaseSeconds * 1000 / 2)) }
}
