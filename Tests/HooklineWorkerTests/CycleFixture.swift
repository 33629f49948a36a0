import Foundation
import Hookline
import HooklineWorker
import Logging
import Postgres
import TestSupport
import Testing

/// A migrated database with an account, and a worker that runs cycles.
struct CycleFixture: Sendable {
    let database: MigratedDatabase
    let account: UUID
    let allowPrivate: Bool

    static func with(allowPrivate: Bool = true, _ body: (CycleFixture) async throws -> Void) async throws {
        try await MigratedDatabase.with(maxConnections: 8) { database in
            let account = try await database.makeAccount()
            try await body(CycleFixture(database: database, account: account.id, allowPrivate: allowPrivate))
        }
    }

    func cycle(_ definition: String) async throws -> Cycle {
        try await CycleStore(database: database.client).create(account: account, definition: Array(definition.utf8))
    }

    /// A job on the cycle's current version, queued as the ingress queues a delivery to a webhook of it.
    func enqueue(_ cycle: Cycle, _ body: String, headers: String = "{}") async throws -> Int64 {
        let webhook = try await WebhookStore(database: database.client).create(
            account: account, cycle: cycle.id, scheme: .none
        ).webhook
        let delivery = Delivery(
            webhookID: webhook.id, accountID: account, cycleID: cycle.id, headers: PostgresJSON(rawJSON: headers),
            contentType: "application/json", body: Data(body.utf8), idempotencyKey: nil, receivedAt: Date())
        let stored = try await JobQueue(database: database.client).enqueue([delivery])
        guard case .accepted(let id)? = stored.outcomes.first else {
            throw HooklineError.notFound("the delivery was not stored")
        }
        return id
    }

    /// Runs a worker with the cycle runner until `done` holds (or the time is up), then drains it.
    func work(within timeout: Duration = .seconds(20), until done: () async throws -> Bool) async throws {
        let worker = startWorker()
        do {
            try await eventually(within: timeout, done)
        } catch {
            try await worker.stop()
            throw error
        }
        try await worker.stop()
    }

    /// A worker with the cycle runner, started; ``RunningWorker/stop()`` drains it as SIGTERM would.
    func startWorker(shutdownSeconds: Int = 1) -> RunningWorker {
        let caller = HTTPCaller(allowPrivateDestinations: allowPrivate)
        let definitions = CycleDefinitions(database: database.client)
        var logger = Logger(label: "test.worker")
        logger.logLevel = .warning
        let worker = Worker(
            settings: WorkerSettings(
                concurrency: 4, pollInterval: .milliseconds(50), shutdownSeconds: shutdownSeconds),
            database: database.client,
            runner: CycleRunner(database: database.client, definitions: definitions, caller: caller), logger: logger,
            definitions: definitions)
        return RunningWorker(worker: worker, task: Task { try await worker.run() }, caller: caller)
    }

    struct Finished {
        var state: String
        var outcome: String?
        var attempt: Int
        var lastError: String?
        var outputs: [String: JSON]
    }

    func finished(_ ids: [Int64]) async throws -> [Int64: Finished] {
        var found: [Int64: Finished] = [:]
        for row in try await database.client.query(
            """
            SELECT id, state, outcome, attempt, last_error, step_outputs FROM hookline.job_history
            WHERE id = ANY(\(ids))
            """)
        {
            let (id, state, outcome, attempt, lastError) = try row.decode((Int64, String, String?, Int, String?).self)
            let outputs = try JSON(parsing: row.decode(PostgresJSON.self, at: 5).bytes).object ?? [:]
            found[id] = Finished(
                state: state, outcome: outcome, attempt: attempt, lastError: lastError, outputs: outputs)
        }
        return found
    }

    struct StepRun {
        var step: String
        var attempt: Int
        var outcome: String
        var status: Int?
    }

    func stepRuns(_ job: Int64) async throws -> [StepRun] {
        try await database.client.query(
            "SELECT step_id, attempt, outcome, http_status FROM hookline.step_runs WHERE job_id = \(job) ORDER BY started_at, id"
        ).map { row in
            let (step, attempt, outcome, status) = try row.decode((String, Int, String?, Int?).self)
            return StepRun(step: step, attempt: attempt, outcome: outcome ?? "(running)", status: status)
        }
    }
}
