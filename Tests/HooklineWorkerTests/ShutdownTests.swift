import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// The drain after SIGTERM, for jobs caught in the middle of a step.
@Suite("Shutdown: a job the drain interrupts is handed back, its attempt not spent")
struct ShutdownTests {
    @Test func aStepWhoseDatabaseCallTheDrainCancelsIsHandedBackWithoutSpendingAnAttempt() async throws {
        try await CycleFixture.with { fixture in
            // Under "stop" a failed step kills its job; with one attempt, so does any counted failure.
            let stopping = try await fixture.cycle(
                """
                {"name": "stopping", "on_error": "stop", "steps": [
                  {"id": "recall", "type": "map", "fields": {"kept": {"lookup": "k"}}}
                ]}
                """)
            let storing = try await fixture.cycle(
                """
                {"name": "storing", "retry": {"max_attempts": 1}, "steps": [
                  {"id": "keep", "type": "store", "key": "k", "value": {"value": 1}}
                ]}
                """)
            // Both steps' statements wait on this lock until the drain cancels them.
            let blocker = PostgresClient(connectionString: fixture.database.url, maxConnections: 1)
            defer { blocker.close() }
            let lock = try await HeldTransaction(
                on: blocker, "LOCK TABLE hookline.cycle_data IN ACCESS EXCLUSIVE MODE")
            let ids = [try await fixture.enqueue(stopping, "{}"), try await fixture.enqueue(storing, "{}")]
            let worker = fixture.startWorker(shutdownSeconds: 1)
            do {
                try await eventually(within: .seconds(20)) {
                    try await fixture.database.client.query(
                        """
                        SELECT count(*) FROM pg_locks
                        WHERE NOT granted AND relation = 'hookline.cycle_data'::regclass
                        """
                    )[0].decode(Int.self, at: 0) == 2
                }
                try await worker.stop()
            } catch {
                try? await lock.release()
                throw error
            }
            try await lock.release()

            let rows = try await fixture.database.client.query(
                "SELECT state, attempt, errors::text, last_error FROM hookline.jobs WHERE id = ANY(\(ids)) ORDER BY id"
            ).map { try $0.decode((String, Int, String, String?).self) }
            #expect(rows.count == 2, "neither job is dead")
            for row in rows {
                #expect(row.0 == "available")
                #expect(row.1 == 0, "the interrupted attempt is not counted")
                #expect(row.2 == "[]", "the interruption is not an error of the job")
                #expect(row.3 == nil)
            }
            #expect(try await fixture.finished(ids).isEmpty)

            // Nothing was spent: the next worker runs both to the end.
            try await fixture.work { try await fixture.finished(ids).count == 2 }
            let finished = try await fixture.finished(ids)
            #expect(ids.allSatisfy { finished[$0]?.state == "completed" && finished[$0]?.attempt == 1 })
        }
    }
}
