import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// An http step whose destination answered but whose checkpoint could not be written because the database
/// went away (a failover, a restart) writes it once the database answers again, while the lease lasts,
/// instead of failing the attempt and calling the destination a second time.
@Suite("Saving a step's checkpoint through a lost connection")
struct CheckpointRetryTests {
    @Test func aCheckpointWhoseConnectionBrokeIsSavedOnceTheDatabaseAnswersWithoutASecondCall() async throws {
        let receiver = Receiver()
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let forward = try await fixture.cycle(
                    """
                    {"name": "forward", "steps": [
                        {"id": "post", "type": "http", "url": "\(base)/post"},
                        {"id": "then", "type": "map", "fields": {"n": "/n"}}
                    ]}
                    """)
                // A checkpoint moves the job's next step: while the test holds the advisory lock, that update
                // waits in this trigger, and its connection is then cut.
                try await fixture.database.client.query(
                    """
                    CREATE FUNCTION hookline.test_hold_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END $$
                    """)
                try await fixture.database.client.query(
                    """
                    CREATE TRIGGER test_hold_checkpoint BEFORE UPDATE ON hookline.jobs FOR EACH ROW
                    WHEN (OLD.next_step IS DISTINCT FROM NEW.next_step)
                    EXECUTE FUNCTION hookline.test_hold_checkpoint()
                    """)
                let blocker = PostgresClient(connectionString: fixture.database.url, maxConnections: 2)
                defer { blocker.close() }
                let id = try await fixture.enqueue(forward, #"{"n": 1}"#)
                // The lease is 30 s: within `eventually`'s 10 s the job finishes in its first attempt only if
                // the checkpoint was written again in place.
                let cut = try await fixture.finishCuttingTheWaitingWrite(
                    id, blocker: blocker, hold: "SELECT pg_advisory_xact_lock(4242)",
                    waiting: """
                        SELECT count(*) FROM pg_stat_activity
                        WHERE wait_event = 'advisory' AND query LIKE 'UPDATE hookline.jobs SET next_step%'
                        """,
                    cut: """
                        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                        WHERE wait_event = 'advisory' AND query LIKE 'UPDATE hookline.jobs SET next_step%'
                        """
                ) { receiver.requests(to: "/post").count == 1 }
                #expect(cut == 1, "the checkpoint's connection was cut")
                let finished = try #require(try await fixture.finished([id])[id])
                #expect(finished.state == "completed")
                #expect(finished.attempt == 1, "finished in its first attempt")
                #expect(receiver.requests(to: "/post").count == 1, "the destination was called once")
                let runs = try await fixture.stepRuns(id)
                #expect(runs.map(\.step) == ["post", "then"], "each step on record once: \(runs.map(\.step))")
            }
        }
    }

    /// A checkpoint written again after a first try that committed unseen changes nothing: the job's progress
    /// is already there, and its step runs are not recorded twice.
    @Test func aCheckpointSavedTwiceIsRecordedOnce() async throws {
        try await MigratedDatabase.with { database in
            let queue = JobQueue(database: database.client)
            let account = try await database.makeAccount()
            let ids = try await queue.insert([NewJob(accountID: account.id, maxAttempts: 3)])
            let claimed = try #require(try await queue.claim(limit: 1, worker: "w1", leaseSeconds: 30).first)
            #expect(claimed.id == ids[0])
            let checkpoint = StepCheckpoint(nextStep: 1, outputs: PostgresJSON(bytes: Array(#"{"a":1}"#.utf8)))
            let run = StepRunRecord(
                jobID: claimed.id, stepID: "a", attempt: 1, startedAt: Date(), finishedAt: Date(),
                outcome: .succeeded)
            try await queue.checkpoint(claimed.id, worker: "w1", attempt: 1, checkpoint, runs: [run])
            try await queue.checkpoint(claimed.id, worker: "w1", attempt: 1, checkpoint, runs: [run])
            let count = try await database.client.query(
                "SELECT count(*) FROM hookline.step_runs WHERE job_id = \(claimed.id)")[0].decode(Int.self, at: 0)
            #expect(count == 1)
            await #expect(throws: LeaseLost.self, "another worker's") {
                try await queue.checkpoint(claimed.id, worker: "w2", attempt: 1, checkpoint, runs: [run])
            }
            let later = StepCheckpoint(nextStep: 2, outputs: checkpoint.outputs)
            await #expect(throws: LeaseLost.self, "an earlier attempt's, written after the job was claimed anew") {
                try await queue.checkpoint(claimed.id, worker: "w1", attempt: 0, later, runs: [])
            }
            // A postponement hands the job back: saved again, it finds it handed back, not lost.
            try await queue.checkpoint(
                claimed.id, worker: "w1", attempt: 1, later, runs: [], with: .postpone(seconds: 60))
            try await queue.checkpoint(
                claimed.id, worker: "w1", attempt: 1, later, runs: [], with: .postpone(seconds: 60))
            let state = try await database.client.query(
                "SELECT state, next_step, attempt FROM hookline.jobs WHERE id = \(claimed.id)"
            )[0].decode((String, Int, Int).self)
            #expect(state == ("available", 2, 0))
        }
    }
}
