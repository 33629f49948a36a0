import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// A run whose lease ran out while it went on (its heartbeats failed: the database was unreachable) and whose
/// job the same worker then claimed again: the two runs hold the job under one worker name, and only the
/// attempt tells them apart.
@Suite("A run taken over by a new attempt of the same worker")
struct TakenOverRunTests {
    @Test func theOldRunsEndNeitherFinishesTheJobNorHidesTheNewRunFromTheDrain() async throws {
        let destination = GatedDestination()
        try await destination.serving { base in
            try await CycleFixture.with { fixture in
                let forward = try await fixture.cycle(
                    """
                    {"name": "forward", "steps": [{"id": "post", "type": "http", "url": "\(base)/post"}]}
                    """)
                let id = try await fixture.enqueue(forward, #"{"n": 1}"#)
                let worker = fixture.startWorker(shutdownSeconds: 1)
                do {
                    try await eventually(within: .seconds(10)) { destination.received == 1 }
                    // The lease runs out under the first run; the reaper makes the job available, and the same
                    // worker claims it again (its heartbeats are 10 s apart: none renews the lease meanwhile).
                    try await fixture.database.client.query(
                        "UPDATE hookline.jobs SET locked_until = now() - interval '1 second' WHERE id = \(id)")
                    #expect(try await JobQueue(database: fixture.database.client).reclaimExpiredLeases() == 1)
                    try await eventually(within: .seconds(10)) { destination.received == 2 }

                    // The new attempt's start cancelled the first run; its call's answer comes now, and nothing
                    // of it is recorded. The second run still waits for its own.
                    destination.letThrough(1)
                    try await Task.sleep(for: .seconds(1))
                    let row = try #require(
                        try await fixture.database.client.query(
                            "SELECT state, attempt FROM hookline.jobs WHERE id = \(id)"
                        ).first)
                    #expect(try row.decode((String, Int).self) == ("running", 2), "the first run did not finish it")
                    #expect(try await fixture.finished([id]).isEmpty)

                    // The drain still sees the second run: it cancels it and hands the job back.
                    try await worker.stop()
                } catch {
                    try? await worker.stop()
                    throw error
                }
                let row = try #require(
                    try await fixture.database.client.query(
                        "SELECT state, attempt, locked_by FROM hookline.jobs WHERE id = \(id)"
                    ).first)
                #expect(try row.decode((String, Int, String?).self) == ("available", 1, nil))
            }
        }
    }
}
