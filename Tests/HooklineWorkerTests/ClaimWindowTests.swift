import Foundation
import Hookline
import HooklineWorker
import Logging
import Postgres
import Synchronization
import TestSupport
import Testing

/// Counts how each job was run: in memory (inside the claim) or by `run` (after a lease). Like CycleRunner
/// with its definitions, it runs a job in memory only once `prepareInMemory` has seen it, and it checks that
/// that happens inside the claim's transaction (the jobs locked by it).
final class PathCounter: JobRunner {
    let inMemory = Mutex(0)
    let run = Mutex(0)
    let prepared = Mutex(Set<Int64>())
    let preparedOutsideTheClaim = Mutex(0)

    func run(_ job: ClaimedJob, worker: String) async throws -> JobResult {
        run.withLock { $0 += 1 }
        return .completed(outcome: .succeeded)
    }

    func prepareInMemory(_ jobs: [ClaimedJob], on connection: PostgresConnection) throws {
        let ids = jobs.map(\.id)
        let locked = try connection.query(
            "SELECT count(*) FROM hookline.jobs WHERE id = ANY(\(ids)) AND xmax = pg_current_xact_id()::xid"
        )[0].decode(Int.self, at: 0)
        if locked != jobs.count { preparedOutsideTheClaim.withLock { $0 += 1 } }
        prepared.withLock { $0.formUnion(ids) }
    }

    func runInMemory(_ job: ClaimedJob, worker: String) -> JobResult? {
        guard prepared.withLock({ $0.contains(job.id) }) else { return nil }
        inMemory.withLock { $0 += 1 }
        return .completed(outcome: .succeeded)
    }
}

@Suite("Claims that finish jobs, and the window after a worker died")
struct ClaimWindowTests {
    /// Runs a worker over `count` queued jobs until they are all in history; returns the counter.
    func drain(count: Int, leasedClaimsUntil: ContinuousClock.Instant?) async throws -> (PathCounter, [Int]) {
        try await MigratedDatabase.with(maxConnections: 8) { database in
            let account = try await database.makeAccount()
            try await JobQueue(database: database.client).insert(
                Array(repeating: NewJob(accountID: account.id), count: count))
            let counter = PathCounter()
            var logger = Logger(label: "test.claims")
            logger.logLevel = .warning
            let worker = Worker(
                settings: WorkerSettings(
                    concurrency: 8, pollInterval: .milliseconds(50), leasedClaimsUntil: leasedClaimsUntil),
                database: database.client, runner: counter, logger: logger)
            let running = Task { try await worker.run() }
            try await eventually(within: .seconds(20)) {
                try await database.client.query("SELECT count(*) FROM hookline.job_history")[0].decode(
                    Int.self, at: 0) == count
            }
            worker.shutdown()
            try await running.value
            let attempts = try await database.client.query("SELECT attempt FROM hookline.job_history").map {
                try $0.decode(Int.self, at: 0)
            }
            return (counter, attempts)
        }
    }

    @Test func jobsThatRunInMemoryAreFinishedInsideTheClaim() async throws {
        let (counter, attempts) = try await drain(count: 20, leasedClaimsUntil: nil)
        #expect(counter.inMemory.withLock { $0 } == 20)
        #expect(counter.run.withLock { $0 } == 0)
        #expect(counter.preparedOutsideTheClaim.withLock { $0 } == 0)
        #expect(attempts == Array(repeating: 1, count: 20))
    }

    @Test func inTheWindowAfterAWorkerDiedEveryJobIsLeasedAndRun() async throws {
        let (counter, attempts) = try await drain(count: 20, leasedClaimsUntil: .now + .seconds(600))
        #expect(counter.inMemory.withLock { $0 } == 0)
        #expect(counter.prepared.withLock { $0.isEmpty })
        #expect(counter.run.withLock { $0 } == 20)
        #expect(attempts == Array(repeating: 1, count: 20))
    }
}
