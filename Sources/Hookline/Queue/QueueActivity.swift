import Foundation
import Postgres

/// The queue at a glance, as the console's overview shows it: jobs by account and state, and the jobs that
/// finished in each recent minute.
///
/// Waiting and running jobs are counted in full (the hot table is small); finished ones only over a recent
/// window (an hour by default), which PostgreSQL reads from the newest history partition alone, so that an
/// overview polled every few seconds costs the same with a year of history as with a day.
public struct QueueActivity: Sendable {
    /// Jobs of one account in one state.
    public struct Count: Sendable, Hashable {
        public var accountID: UUID
        public var state: JobState
        public var count: Int
    }

    /// The jobs that finished in one minute.
    public struct Minute: Sendable, Hashable {
        public var start: Date
        public var completed: Int
        public var dead: Int
    }

    /// Available, running and held jobs, and those that finished within `finishedWithin`.
    public var counts: [Count]
    /// One entry per minute of the window that had finished jobs, oldest first.
    public var minutes: [Minute]
    /// How long the oldest available job has waited past its run time, in seconds; nil when none waits.
    public var oldestWaitSeconds: Double?
    /// The latest jobs that died within the window, newest first.
    public var recentDead: [JobSummary]
    /// When the numbers were read (the database's clock).
    public var at: Date
}

extension JobStore {
    /// The numbers of ``QueueActivity``: finished jobs counted over the last `window` seconds, per minute over
    /// the last `minutes` minutes, and the `deadLimit` latest jobs that died within the window. Every read of
    /// history is bounded by `finished_at`, its partition key.
    public func activity(window: Int = 3_600, minutes: Int = 60, deadLimit: Int = 10) async throws -> QueueActivity {
        let counts = try await database.query(
            """
            SELECT account_id, state, count(*)::bigint FROM hookline.jobs GROUP BY account_id, state
            UNION ALL
            SELECT account_id, state, count(*)::bigint FROM hookline.job_history
            WHERE finished_at > now() - \(window) * interval '1 second' GROUP BY account_id, state
            """
        ).map { row in
            let (account, state, count) = try row.decode((UUID, JobState, Int).self)
            return QueueActivity.Count(accountID: account, state: state, count: count)
        }
        let perMinute = try await database.query(
            """
            SELECT date_trunc('minute', finished_at),
                   count(*) FILTER (WHERE state = 'completed')::bigint, count(*) FILTER (WHERE state = 'dead')::bigint
            FROM hookline.job_history
            WHERE finished_at > date_trunc('minute', now()) - \(minutes - 1) * interval '1 minute'
            GROUP BY 1 ORDER BY 1
            """
        ).map { row in
            let (start, completed, dead) = try row.decode((Date, Int, Int).self)
            return QueueActivity.Minute(start: start, completed: completed, dead: dead)
        }
        let dead = try await database.query(
            """
            SELECT id, account_id, webhook_id, cycle_id, state, attempt, max_attempts, finished_at, last_error
            FROM hookline.job_history
            WHERE state = 'dead' AND finished_at > now() - \(window) * interval '1 second'
            ORDER BY finished_at DESC LIMIT \(deadLimit)
            """
        ).map(Self.summary)
        let now = try await database.query("SELECT now()").first?.decode(Date.self, at: 0) ?? Date()
        return QueueActivity(
            counts: counts, minutes: perMinute, oldestWaitSeconds: try await oldestWaitSeconds(), recentDead: dead,
            at: now)
    }
}
