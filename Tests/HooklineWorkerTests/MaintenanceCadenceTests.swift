import Foundation
import Hookline
import HooklineWorker
import Logging
import TestSupport
import Testing

/// The worker's housekeeping runs each task on its own schedule: the queue-depth gauge every 5 s as
/// docs/operations.md says, whatever the lease (the reaper's pace, half of it, is 15 s by default).
@Suite("The worker's housekeeping cadence")
struct MaintenanceCadenceTests {
    @Test func theQueueDepthGaugeFollowsTheQueueWithinFiveSecondsWhateverTheLease() async throws {
        try await CycleFixture.with { fixture in
            let metrics = WorkerMetrics()
            var logger = Logger(label: "test.worker")
            logger.logLevel = .warning
            let definitions = CycleDefinitions(database: fixture.database.client)
            let caller = HTTPCaller(allowPrivateDestinations: true)
            let worker = Worker(
                settings: WorkerSettings(leaseSeconds: 30, pollInterval: .milliseconds(50), shutdownSeconds: 1),
                database: fixture.database.client,
                runner: CycleRunner(database: fixture.database.client, definitions: definitions, caller: caller),
                logger: logger, metrics: metrics, definitions: definitions)
            let running = RunningWorker(worker: worker, task: Task { try await worker.run() }, caller: caller)
            func held() -> Double? {
                let text = String(decoding: metrics.exposition(), as: UTF8.self)
                let line = text.split(separator: "\n").first { $0.hasPrefix(#"hookline_queue_depth{state="held"}"#) }
                return line.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            do {
                try await eventually(within: .seconds(5)) { held() == 0 }
                // Held jobs (of a stopped cycle) stay in the queue: only the gauge's refresh can show them.
                try await fixture.database.client.query(
                    """
                    INSERT INTO hookline.jobs (account_id, state)
                    SELECT \(fixture.account), 'held' FROM generate_series(1, 3)
                    """)
                try await eventually(within: .seconds(8)) { held() == 3 }
            } catch {
                try? await running.stop()
                throw error
            }
            try await running.stop()
        }
    }
}
