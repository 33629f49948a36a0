import Foundation
import Postgres

/// Everything about one job, from the hot table or history, with its step runs: `hookline jobs show`.
public struct JobDetail: Sendable {
    public var id: Int64
    public var accountID: UUID
    public var webhookID: UUID?
    public var cycleID: UUID?
    public var cycleVersion: Int?
    public var parentID: Int64?
    public var state: JobState
    public var outcome: JobOutcome?
    public var priority: Int
    public var attempt: Int
    public var maxAttempts: Int
    /// When it runs next; nil once finished.
    public var runAt: Date?
    public var lockedBy: String?
    public var lockedUntil: Date?
    public var nextStep: Int?
    public var stepOutputs: PostgresJSON
    public var headers: PostgresJSON
    public var contentType: String?
    public var body: Data
    public var idempotencyKey: String?
    public var receivedAt: Date
    public var finishedAt: Date?
    public var lastError: String?
    public var errors: PostgresJSON
    public var stepRuns: [StepRun]

    /// One attempt at one step.
    public struct StepRun: Sendable {
        public var stepID: String
        public var attempt: Int
        public var startedAt: Date
        public var finishedAt: Date?
        public var outcome: StepRunOutcome?
        public var error: String?
    }

    /// The job as a JSON object: payload and outputs as JSON, the body as text when it is UTF-8 (else
    /// base64, with `body_encoding`), times in ISO 8601.
    public func jsonObject() -> [String: Any] {
        func time(_ date: Date?) -> Any { date.map { $0.formatted(.iso8601) } ?? NSNull() }
        func json(_ value: PostgresJSON) -> Any {
            (try? JSONSerialization.jsonObject(with: Data(value.bytes), options: [.fragmentsAllowed])) ?? NSNull()
        }
        var object: [String: Any] = [
            "id": id, "account_id": accountID.lowercased, "webhook_id": webhookID?.lowercased ?? NSNull(),
            "cycle_id": cycleID?.lowercased ?? NSNull(), "cycle_version": cycleVersion ?? NSNull(),
            "parent_id": parentID ?? NSNull(), "state": state.rawValue, "outcome": outcome?.rawValue ?? NSNull(),
            "priority": priority,
            "attempt": attempt, "max_attempts": maxAttempts, "run_at": time(runAt), "locked_by": lockedBy ?? NSNull(),
            "locked_until": time(lockedUntil), "next_step": nextStep ?? NSNull(), "step_outputs": json(stepOutputs),
            "headers": json(headers), "content_type": contentType ?? NSNull(),
            "idempotency_key": idempotencyKey ?? NSNull(), "received_at": time(receivedAt),
            "finished_at": time(finishedAt), "last_error": lastError ?? NSNull(), "errors": json(errors),
            "step_runs": stepRuns.map { run -> [String: Any] in
                [
                    "step_id": run.stepID, "attempt": run.attempt, "started_at": time(run.startedAt),
                    "finished_at": time(run.finishedAt), "outcome": run.outcome?.rawValue ?? NSNull(),
                    "error": run.error ?? NSNull(),
                ]
            },
        ]
        if let text = String(data: body, encoding: .utf8) {
            object["body"] = text
        } else {
            object["body"] = body.base64EncodedString()
            object["body_encoding"] = "base64"
        }
        return object
    }
}

extension JobStore {
    /// What the job `id` of `account` holds, in bytes (its body, headers, step outputs and errors as text),
    /// measured by PostgreSQL, so that none of it is sent here; nil when the account has no such job. A caller
    /// that may show only so much asks this before ``show(_:)``.
    public func storedBytes(of id: Int64, account: UUID) async throws -> Int? {
        let rows = try await database.query(
            """
            SELECT octet_length(body) + octet_length(headers::text) + octet_length(step_outputs::text)
                   + octet_length(errors::text)
            FROM hookline.jobs WHERE id = \(id) AND account_id = \(account)
            UNION ALL
            SELECT octet_length(body) + octet_length(headers::text) + octet_length(step_outputs::text)
                   + octet_length(errors::text)
            FROM hookline.job_history WHERE id = \(id) AND account_id = \(account)
            """)
        return try rows.first?.decode(Int.self, at: 0)
    }

    /// One job, wherever it is.
    /// - Throws: ``HooklineError/notFound(_:)`` when no job has this id.
    public func show(_ id: Int64) async throws -> JobDetail {
        let rows = try await database.query(
            """
            SELECT id, account_id, webhook_id, cycle_id, cycle_version, parent_id, state, NULL::text, priority,
                   attempt, max_attempts, run_at, locked_by, locked_until, next_step, step_outputs, headers,
                   content_type, body, idempotency_key, received_at, NULL::timestamptz, last_error, errors
            FROM hookline.jobs WHERE id = \(id)
            UNION ALL
            SELECT id, account_id, webhook_id, cycle_id, cycle_version, parent_id, state, outcome, priority,
                   attempt, max_attempts, NULL, NULL, NULL, next_step, step_outputs, headers,
                   content_type, body, idempotency_key, received_at, finished_at, last_error, errors
            FROM hookline.job_history WHERE id = \(id)
            """)
        guard let row = rows.first else { throw HooklineError.notFound("no job \(id)") }
        let runs = try await database.query(
            """
            SELECT step_id, attempt, started_at, finished_at, outcome, error
            FROM hookline.step_runs WHERE job_id = \(id) ORDER BY started_at, id
            """)
        return JobDetail(
            id: try row.decode(Int64.self, at: 0), accountID: try row.decode(UUID.self, at: 1),
            webhookID: try row.decode(UUID?.self, at: 2), cycleID: try row.decode(UUID?.self, at: 3),
            cycleVersion: try row.decode(Int?.self, at: 4), parentID: try row.decode(Int64?.self, at: 5),
            state: try row.decode(JobState.self, at: 6), outcome: try row.decode(JobOutcome?.self, at: 7),
            priority: try row.decode(Int.self, at: 8), attempt: try row.decode(Int.self, at: 9),
            maxAttempts: try row.decode(Int.self, at: 10), runAt: try row.decode(Date?.self, at: 11),
            lockedBy: try row.decode(String?.self, at: 12), lockedUntil: try row.decode(Date?.self, at: 13),
            nextStep: try row.decode(Int?.self, at: 14), stepOutputs: try row.decode(PostgresJSON.self, at: 15),
            headers: try row.decode(PostgresJSON.self, at: 16), contentType: try row.decode(String?.self, at: 17),
            body: try row.decode(Data.self, at: 18), idempotencyKey: try row.decode(String?.self, at: 19),
            receivedAt: try row.decode(Date.self, at: 20), finishedAt: try row.decode(Date?.self, at: 21),
            lastError: try row.decode(String?.self, at: 22), errors: try row.decode(PostgresJSON.self, at: 23),
            stepRuns: try runs.map { run in
                JobDetail.StepRun(
                    stepID: try run.decode(String.self, at: 0), attempt: try run.decode(Int.self, at: 1),
                    startedAt: try run.decode(Date.self, at: 2), finishedAt: try run.decode(Date?.self, at: 3),
                    outcome: try run.decode(StepRunOutcome?.self, at: 4), error: try run.decode(String?.self, at: 5))
            })
    }
}
