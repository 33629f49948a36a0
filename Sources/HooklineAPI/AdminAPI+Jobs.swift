import Foundation
import Hookline
import HooklineAPIGenerated
import OpenAPIRuntime
import Postgres

extension AdminAPI {
    /// A page of jobs, newest first. The cursor is the id below which the next page starts: ids only grow, so
    /// jobs that arrive meanwhile land before the first page and never shift the later ones.
    package func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let account = try parameter(input.query.accountId, "account_id")
        let cycle = try parameter(input.query.cycleId, "cycle_id")
        let limit = input.query.limit ?? 100
        guard (1...500).contains(limit) else { throw Problem(.badRequest, "limit is 1 to 500") }
        var before: Int64?
        if let cursor = input.query.cursor {
            guard let id = Int64(cursor), id > 0 else { throw Problem(.badRequest, "cursor is not one this API gave") }
            before = id
        }
        let state = input.query.state.flatMap { JobState(rawValue: $0.rawValue) }
        // One more than the page, to tell whether another follows.
        let found = try await jobs.list(state: state, account: account, cycle: cycle, before: before, limit: limit + 1)
        let page = found.prefix(limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.map(Components.Schemas.JobSummary.init),
                        nextCursor: found.count > limit ? page.last.map { String($0.id) } : nil))))
    }

    package func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        .ok(.init(body: .json(try .init(try await jobs.show(input.path.jobId)))))
    }

    package func cancelJob(_ input: Operations.CancelJob.Input) async throws -> Operations.CancelJob.Output {
        try await jobs.cancel(input.path.jobId)
        return .ok(.init(body: .json(try await summary(input.path.jobId))))
    }

    package func retryJob(_ input: Operations.RetryJob.Input) async throws -> Operations.RetryJob.Output {
        var fromStart = false
        if case .json(let body)? = input.body { fromStart = body.fromStart ?? false }
        _ = try await jobs.retry(id: input.path.jobId, fromStart: fromStart)
        return .ok(.init(body: .json(try await summary(input.path.jobId))))
    }

    package func retryJobs(_ input: Operations.RetryJobs.Input) async throws -> Operations.RetryJobs.Output {
        guard case .json(let body) = input.body else { throw Problem(.badRequest) }
        let account = try body.accountId.map { try field($0, at: "/account_id") }
        let cycle = try body.cycleId.map { try field($0, at: "/cycle_id") }
        // An empty filter (a script's unset variable) must not replay every account's calls: every account is
        // asked for by name.
        let all = body.all ?? false
        if account == nil, cycle == nil, !all {
            throw Problem.invalid("", "give account_id or cycle_id, or all: true for every account's jobs")
        }
        if all, account != nil || cycle != nil {
            throw Problem.invalid("/all", "all retries every account's jobs: give no account_id or cycle_id")
        }
        let state = body.state.flatMap { JobState(rawValue: $0.rawValue) } ?? .dead
        let retried = try await jobs.retry(
            account: account, cycle: cycle, state: state, fromStart: body.fromStart ?? false)
        return .ok(.init(body: .json(.init(retried: retried.count))))
    }

    package func getStats(_ input: Operations.GetStats.Input) async throws -> Operations.GetStats.Output {
        let account = try parameter(input.query.accountId, "account_id")
        let counts = try await jobs.stats(account: account)
        return .ok(
            .init(
                body: .json(
                    .init(
                        counts: .init(
                            available: counts[.available] ?? 0, running: counts[.running] ?? 0,
                            held: counts[.held] ?? 0, completed: counts[.completed] ?? 0, dead: counts[.dead] ?? 0,
                            cancelled: counts[.cancelled] ?? 0),
                        oldestAvailableSeconds: try await jobs.oldestWaitSeconds(account: account)))))
    }

    private func summary(_ id: Int64) async throws -> Components.Schemas.JobSummary {
        guard let summary = try await jobs.summary(id) else { throw Problem(.notFound, "no such job") }
        return .init(summary)
    }
}

extension Components.Schemas.JobSummary {
    init(_ job: JobSummary) {
        self.init(
            id: job.id, accountId: job.accountID.lowercased, webhookId: job.webhookID?.lowercased,
            cycleId: job.cycleID?.lowercased, state: .init(rawValue: job.state.rawValue) ?? .available,
            attempt: job.attempt, maxAttempts: job.maxAttempts, at: job.at, lastError: job.lastError)
    }
}

extension Components.Schemas.JobDetail {
    init(_ job: JobDetail) throws {
        let text = String(data: job.body, encoding: .utf8)
        self.init(
            job: .init(
                id: job.id, accountId: job.accountID.lowercased, webhookId: job.webhookID?.lowercased,
                cycleId: job.cycleID?.lowercased, state: .init(rawValue: job.state.rawValue) ?? .available,
                attempt: job.attempt, maxAttempts: job.maxAttempts, at: job.finishedAt ?? job.runAt ?? job.receivedAt,
                lastError: job.lastError),
            cycleVersion: job.cycleVersion, parentId: job.parentID, outcome: job.outcome?.rawValue,
            priority: job.priority, lockedBy: job.lockedBy, lockedUntil: job.lockedUntil, nextStep: job.nextStep,
            headers: try Self.decode(job.headers), contentType: job.contentType,
            body: text ?? job.body.base64EncodedString(), bodyEncoding: text == nil ? .base64 : nil,
            idempotencyKey: job.idempotencyKey, receivedAt: job.receivedAt, finishedAt: job.finishedAt,
            errors: try Self.decode(job.errors), stepOutputs: try Self.decode(job.stepOutputs),
            stepRuns: job.stepRuns.map {
                .init(
                    stepId: $0.stepID, attempt: $0.attempt, startedAt: $0.startedAt, finishedAt: $0.finishedAt,
                    outcome: $0.outcome?.rawValue, error: $0.error)
            })
    }

    private static func decode<T: Decodable>(_ json: PostgresJSON) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.bytes))
    }
}
