import Postgres
import Synchronization

/// Wakes the workers (a NOTIFY on ``JobNotifications/channel``) after jobs became available: outside the
/// transaction that stored them, one notification at a time per process.
///
/// PostgreSQL serializes the commits of all transactions that sent a NOTIFY on one database-wide lock, held
/// until the commit is flushed and, with synchronous replication, acknowledged by the standby. Ingress batches
/// that notified in their own transactions therefore queued behind each other across instances: with two
/// `serve` hosts on a Patroni pair, 153 of 166 batch inserts sampled in `pg_stat_activity` were waiting on that
/// lock, and batches shrank to one delivery (docs/scaling.md). Here the notification goes in a statement of its
/// own that commits without waiting for its WAL (`synchronous_commit` off: a notification lost in a crash costs
/// one wake-up, and workers poll as well), so the lock is held only for that commit; and it goes after the jobs
/// are committed, so a woken worker finds them.
public final class JobAvailabilityNotifier: Sendable {
    private enum State {
        case idle, sending, sendingWithMore
    }

    private let database: PostgresClient
    private let state = Mutex(State.idle)

    public init(database: PostgresClient) {
        self.database = database
    }

    /// Asks for a notification: sent at once, or, while one is on its way, once more after it (one for any
    /// number of asks meanwhile).
    public func jobsBecameAvailable() {
        let start = state.withLock { state -> Bool in
            guard case .idle = state else {
                state = .sendingWithMore
                return false
            }
            state = .sending
            return true
        }
        if start { Task { await send() } }
    }

    private func send() async {
        repeat {
            // A number as payload: worker processes of one group let the one it names go first.
            let payload = String(UInt32.random(in: 0..<1_000_000_000))
            // A failure is not the caller's: the jobs are committed, and workers poll.
            _ = try? await database.query(
                .prepared(
                    """
                    SELECT set_config('synchronous_commit', 'off', true),
                           pg_notify(\(JobNotifications.channel), \(payload))
                    """))
        } while state.withLock { state -> Bool in
            if case .sendingWithMore = state {
                state = .sending
                return true
            }
            state = .idle
            return false
        }
    }
}
