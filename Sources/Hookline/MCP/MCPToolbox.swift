import Foundation
import Postgres

/// What an MCP server's tools do, confined to the server's account: a cycle tool enqueues its arguments as a
/// job, exactly as a webhook delivery would be, and waits for it; the job tools read and steer the account's
/// jobs. Answers are JSON values, which the protocol layer wraps as tool results.
public struct MCPToolbox: Sendable {
    /// The arguments every cycle tool takes besides its own, never passed to the cycle.
    public static let reservedArguments: Set = ["idempotency_key", "wait_seconds"]
    /// How long a call waits for its job when it does not say, and at most.
    public static let defaultWait = 10.0
    public static let maxWait = 60.0
    /// How far back `list_jobs` and `queue_stats` read finished jobs: history's newest partitions only, so that
    /// an agent's calls cost the same with a year of history as with a day (``job(_:of:maxBytes:)`` finds any).
    public static let historyWindow: TimeInterval = 24 * 3600

    public let database: PostgresClient
    public let waiter: JobWaiter
    /// Enqueues a delivery (the ingress's group commit).
    public let enqueue: @Sendable (Delivery) async throws -> EnqueueOutcome
    /// The account rate limit that webhook deliveries spend too: nil admits the call, else the seconds to
    /// wait.
    public let admit: @Sendable (UUID) -> Int?

    public init(
        database: PostgresClient, waiter: JobWaiter,
        enqueue: @escaping @Sendable (Delivery) async throws -> EnqueueOutcome,
        admit: @escaping @Sendable (UUID) -> Int? = { _ in nil }
    ) {
        self.database = database
        self.waiter = waiter
        self.enqueue = enqueue
        self.admit = admit
    }

    /// Calls a cycle tool: checks the arguments against its input schema, enqueues them as a job (a repeat of
    /// an `idempotency_key` finds the first call's job instead), and waits up to `wait_seconds` for it.
    /// - Throws: ``HooklineError/invalidArgument(_:)`` for a bad `idempotency_key` or `wait_seconds`.
    public func call(_ tool: MCPTool, of server: MCPServer, arguments: [String: JSON]) async throws -> MCPToolCall {
        let key = try Self.idempotencyKey(arguments["idempotency_key"])
        let wait = try Self.waitSeconds(arguments["wait_seconds"])
        let payload = JSON.object(arguments.filter { !Self.reservedArguments.contains($0.key) })
        if let schema = tool.definition.inputSchema {
            let violations = schema.validate(payload)
            if !violations.isEmpty { return .invalidArguments(violations.map { "\($0)" }) }
        }
        if let wait = admit(server.accountID) { return .rateLimited(retryAfter: wait) }
        let enqueuedAt = Date()
        let outcome = try await enqueue(
            Delivery(
                webhookID: server.id, accountID: server.accountID, cycleID: tool.cycleID,
                headers: PostgresJSON(bytes: Array(#"{"content-type":"application/json"}"#.utf8)),
                contentType: "application/json", body: Data(payload.bytes),
                idempotencyKey: key.map { "\(tool.cycleID.lowercased):\($0)" }, receivedAt: enqueuedAt))
        let jobID: Int64
        var since = enqueuedAt
        switch outcome {
        case .accepted(let id):
            jobID = id
        case .duplicate(let id):
            // The first call's job may have finished long ago: looked up once in all of history; if it has
            // not finished, it finishes after now, and the wait reads only from now.
            jobID = id
            since = Date()
            if let finished = try await JobWaiter.finished([id], since: .distantPast, on: database).first {
                return Self.result(finished, tool: tool)
            }
        }
        if let finished = await waiter.wait(for: jobID, since: since, timeout: .milliseconds(Int(wait * 1000))) {
            return Self.result(finished, tool: tool)
        }
        return .pending(jobID: jobID, state: try await JobStore(database: database).state(of: jobID) ?? .available)
    }

    /// What a finished job answers: the output of the last step that ran, or its error.
    static func result(_ job: FinishedJob, tool: MCPTool) -> MCPToolCall {
        guard job.state == .completed else {
            return .failed(jobID: job.id, state: job.state, error: job.lastError ?? "the job was \(job.state)")
        }
        let outputs = job.stepOutputs.object ?? [:]
        let last = tool.definition.steps.reversed().first { outputs[$0.id] != nil }
        return .completed(jobID: job.id, output: last.flatMap { outputs[$0.id] } ?? job.stepOutputs)
    }

    /// A job of the server's account, as `get_job` shows it. Its size is asked first: a job that holds more
    /// than `maxBytes` is refused before its body and outputs are loaded, so that calls in flight cannot hold
    /// more than their results may carry.
    /// - Throws: ``HooklineError/notFound(_:)`` for a job of another account, as for no job at all;
    ///   ``HooklineError/invalidArgument(_:)`` for one too large.
    public func job(_ id: Int64, of server: MCPServer, maxBytes: Int) async throws -> JSON {
        let store = JobStore(database: database)
        guard let size = try await store.storedBytes(of: id, account: server.accountID) else {
            throw HooklineError.notFound("no job \(id)")
        }
        guard size <= maxBytes else {
            throw HooklineError.invalidArgument(
                "job \(id) holds \(size) bytes, more than the \(maxBytes) a tool result may carry: hookline jobs show prints it"
            )
        }
        let detail = try await store.show(id)
        guard detail.accountID == server.accountID else { throw HooklineError.notFound("no job \(id)") }
        return try JSON(
            parsing: JSONSerialization.data(withJSONObject: detail.jsonObject(), options: [.sortedKeys]),
            maxDepth: CycleInterpreter.maxOutputDepth + 2)
    }

    /// The account's jobs, newest first, a page at a time (`next_cursor` fetches the next page): those that wait
    /// or run, and those that finished within ``historyWindow``.
    public func jobs(
        of server: MCPServer, state: JobState?, cycle: UUID?, cursor: String?, limit: Int
    ) async throws -> JSON {
        let before = try cursor.map { text -> Int64 in
            guard let id = Int64(text), id > 0 else { throw HooklineError.invalidArgument("cursor is not one of ours") }
            return id
        }
        let page = try await JobStore(database: database).list(
            state: state, account: server.accountID, cycle: cycle, before: before,
            finishedSince: Date().addingTimeInterval(-Self.historyWindow), limit: limit)
        let jobs = try JSON(parsing: JSONEncoder.hookline().encode(page))
        var result: [String: JSON] = ["jobs": jobs]
        if page.count == limit, let last = page.last { result["next_cursor"] = .string(String(last.id)) }
        return .object(result)
    }

    /// The account's jobs counted by state: those that wait or run, and those that finished within
    /// ``historyWindow``.
    public func stats(of server: MCPServer) async throws -> JSON {
        let counts = try await JobStore(database: database).stats(
            account: server.accountID, finishedSince: Date().addingTimeInterval(-Self.historyWindow))
        return .object(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, .int(Int64($0.value))) }))
    }

    /// Requeues a dead or cancelled job of the account.
    public func retry(_ id: Int64, fromStart: Bool, of server: MCPServer) async throws -> JSON {
        let ids = try await JobStore(database: database).retry(id: id, account: server.accountID, fromStart: fromStart)
        return .object(["retried": .array(ids.map { .int($0) })])
    }

    /// Cancels a waiting job of the account.
    public func cancel(_ id: Int64, of server: MCPServer) async throws -> JSON {
        try await JobStore(database: database).cancel(id, account: server.accountID)
        return .object(["cancelled": .int(id)])
    }

    static func idempotencyKey(_ value: JSON?) throws -> String? {
        switch value {
        case nil, .null?: return nil
        // U+0000 cannot be stored as text: such a key failed the ingress batch it went in, other senders' too.
        case .string(let key)? where !key.isEmpty && key.utf8.count <= 200 && !key.utf8.contains(0): return key
        default:
            throw HooklineError.invalidArgument("idempotency_key must be a string of 1 to 200 bytes, without U+0000")
        }
    }

    static func waitSeconds(_ value: JSON?) throws -> Double {
        guard let value, value != .null else { return defaultWait }
        guard let seconds = value.number, seconds >= 0, seconds <= maxWait else {
            throw HooklineError.invalidArgument("wait_seconds must be a number from 0 to \(Int(maxWait))")
        }
        return seconds
    }
}
