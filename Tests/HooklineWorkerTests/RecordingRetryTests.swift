import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// A job whose result could not be recorded because the database went away (a failover, a restart) is
/// recorded once the database answers again, while its lease lasts, instead of running a second time after
/// the lease has run out.
@Suite("Recording a result through a lost connection")
struct RecordingRetryTests {
    @Test func aResultWhoseConnectionBrokeIsRecordedOnceTheDatabaseAnswersWithoutASecondCall() async throws {
        let receiver = Receiver()
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let forward = try await fixture.cycle(
                    """
                    {"name": "forward", "steps": [{"id": "post", "type": "http", "url": "\(base)/post"}]}
                    """)
                let blocker = PostgresClient(connectionString: fixture.database.url, maxConnections: 2)
                defer { blocker.close() }
                let id = try await fixture.enqueue(forward, #"{"n": 1}"#)
                // The completion writes history: it waits on this lock once the step has called the destination
                // (the worker's periodic statements that read history may wait too: their connections are cut
                // alike). The lease is 30 s: within `eventually`'s 10 s only a retry can have recorded the job.
                let cut = try await fixture.finishCuttingTheWaitingWrite(
                    id, blocker: blocker, hold: "LOCK TABLE hookline.job_history IN ACCESS EXCLUSIVE MODE",
                    waiting: """
                        SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                        WHERE NOT l.granted AND l.relation = 'hookline.job_history'::regclass
                          AND a.query LIKE '%hookline.complete_jobs(%'
                        """,
                    cut: """
                        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_locks
                        WHERE NOT granted AND relation = 'hookline.job_history'::regclass
                        """
                ) { receiver.requests(to: "/post").count == 1 }
                #expect(cut >= 1, "the completion's connection was cut")
                let finished = try #require(try await fixture.finished([id])[id])
                #expect(finished.state == "completed")
                #expect(finished.attempt == 1, "recorded in its first attempt, not after its lease ran out")
                #expect(receiver.requests(to: "/post").count == 1, "the destination was called once")
            }
        }
    }
}
