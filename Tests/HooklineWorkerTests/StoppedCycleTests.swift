import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// A stopped cycle's jobs wait as `held` (docs/cycles.md), also those that come back to wait after the stop: a
/// retry after a failure, a lease the reaper takes back, a job handed back at shutdown, a delay's end, a
/// split's children. Before, each of these made the job `available` again, and it ran on the stopped cycle.
@Suite("A stopped cycle's jobs")
struct StoppedCycleTests {
    @Test func jobsThatComeBackToWaitOnAStoppedCycleAreHeld() async throws {
        try await CycleFixture.with { fixture in
            let cycle = try await fixture.cycle(#"{"name": "s", "steps": []}"#)
            let queue = JobQueue(database: fixture.database.client)
            var ids: [Int64] = []
            for _ in 0..<5 { ids.append(try await fixture.enqueue(cycle, "{}")) }
            let claimed = try await queue.claim(limit: 5, worker: "w", leaseSeconds: 1)
            #expect(claimed.count == 5)
            // Stopped while its jobs run.
            try await CycleStore(database: fixture.database.client).setActive(cycle.id, false)
            // A retryable failure, a release at shutdown, a delay's end.
            _ = try await queue.fail(
                ids[0], worker: "w", error: "boom", permanent: false, policy: .default, delay: 0, checkpoint: nil,
                runs: [])
            _ = try await queue.release([ids[1]], worker: "w")
            try await queue.checkpoint(
                ids[2], worker: "w", attempt: 1, StepCheckpoint(nextStep: 0, outputs: PostgresJSON(rawJSON: "{}")),
                runs: [], with: .postpone(seconds: 0))
            // A split's children.
            try await queue.checkpoint(
                ids[4], worker: "w", attempt: 1, StepCheckpoint(nextStep: 1, outputs: PostgresJSON(rawJSON: "{}")),
                runs: [],
                with: .children(
                    nextStep: 1, outputs: PostgresJSON(rawJSON: "{}"), bodies: [Data("{}".utf8), Data("{}".utf8)],
                    copyHeaders: false))
            // A lease that runs out.
            try await Task.sleep(for: .seconds(1.5))
            _ = try await queue.reclaimExpiredLeases()
            let states = try await fixture.database.client.query(
                "SELECT id, state FROM hookline.jobs WHERE id = ANY(\(ids)) ORDER BY id"
            ).map { try $0.decode((Int64, String).self) }
            // The split's parent runs on (its lease then runs out too); the four others wait held.
            #expect(states.map(\.1) == ["held", "held", "held", "held", "held"], "\(states)")
            let children = try await fixture.database.client.query(
                "SELECT state FROM hookline.jobs WHERE parent_id = \(ids[4])"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(children == ["held", "held"])
        }
    }
}
