import AsyncHTTPClient
import Foundation
import Hookline
import Logging
import Postgres

/// Runs a job's cycle, step by step, from the step it stopped at.
///
/// Steps without effects outside the job (`filter`, `map`) run in memory and their step runs are written
/// with whatever the job does next. A step with effects (`http`, `store`, `split`, `delay`) is followed at
/// once by a checkpoint (its output and the next step, in one transaction with its own writes for `store` and
/// `split`), so that a retry never repeats it. `http` steps also write their step run when they start, so
/// that a call cut short by a crash is on record.
public struct CycleRunner: JobRunner {
    let queue: JobQueue
    let database: PostgresClient
    let definitions: CycleDefinitions
    let caller: HTTPCaller

    public init(database: PostgresClient, definitions: CycleDefinitions, caller: HTTPCaller) {
        self.database = database
        self.queue = JobQueue(database: database)
        self.definitions = definitions
        self.caller = caller
    }

    public func run(_ job: ClaimedJob, worker: String) async throws -> JobResult {
        let definition: CycleDefinition
        do {
            guard let found = try await definitions.definition(for: job) else {
                return .completed(outcome: "succeeded")
            }
            definition = found
        } catch let error as HooklineError {
            return .failed(error: error.description, permanent: true)
        } catch let problems as CycleProblems {
            return .failed(error: "the cycle version is invalid: \(problems)", permanent: true)
        }
        var run = Run(job: job, worker: worker, definition: definition)
        return try await run.execute(self)
    }

    /// Reads the cycle definitions of these jobs that this worker has not seen yet, in the claim's
    /// transaction, so that even a worker's first batch runs in memory.
    public func prepareInMemory(_ jobs: [ClaimedJob], on connection: PostgresConnection) throws {
        try definitions.load(missingFor: jobs, on: connection)
    }

    /// Runs the job at once when what is left of its cycle runs in memory (`filter`, and `map` without
    /// lookups) and its definition is already known: no task, no suspension, for the cycles that are
    /// pure computation. Nil when the job needs ``run(_:worker:)``.
    public func runInMemory(_ job: ClaimedJob, worker: String) -> JobResult? {
        guard job.cycleID != nil else { return .completed(outcome: "succeeded") }
        guard let definition = definitions.cached(for: job),
            definition.steps.dropFirst(job.nextStep).allSatisfy(\.runsInMemory)
        else { return nil }
        var run = Run(job: job, worker: worker, definition: definition)
        return run.executeInMemory()
    }
}

extension CycleDefinition.Step {
    /// Whether the step needs nothing but the job: `filter`, and `map` without `lookup` values.
    var runsInMemory: Bool {
        switch action {
        case .filter: return true
        case .map(let fields):
            return !fields.values.contains { value in
                if case .lookup = value { return true }
                return false
            }
        default: return false
        }
    }
}

/// A failed step: what went wrong, whether trying again could help, and when.
struct StepFailure: Error {
    var message: String
    var permanent: Bool
    var retryAfter: Double?
    var httpStatus: Int?
    /// What the step leaves as its output when the cycle ignores the failure.
    var output: JSON?
    /// The step run written when the step started, which the failure finishes.
    var rowID: Int64?
}

/// One run of one job through its cycle.
private struct Run {
    let job: ClaimedJob
    let worker: String
    let definition: CycleDefinition
    let payload: JSON
    var outputs: [String: JSON]
    /// Step runs not written yet.
    var pending: [StepRunRecord] = []

    init(job: ClaimedJob, worker: String, definition: CycleDefinition) {
        self.job = job
        self.worker = worker
        self.definition = definition
        payload = Self.payload(of: job)
        outputs = (try? JSON(parsing: job.stepOutputs.bytes))?.object ?? [:]
    }

    /// The body as JSON when it is JSON, as an object of fields when it is a form, else as text.
    static func payload(of job: ClaimedJob) -> JSON {
        if let json = try? JSON(parsing: job.body) { return json }
        let text = String(decoding: job.body, as: UTF8.self)
        if job.contentType?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            var fields: [String: JSON] = [:]
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map {
                    $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
                }
                if let name = parts.first { fields[name] = .string(parts.count > 1 ? parts[1] : "") }
            }
            return .object(fields)
        }
        return .string(text)
    }

    var checkpointNow: StepCheckpoint { checkpoint(next: job.nextStep) }

    func checkpoint(next: Int) -> StepCheckpoint {
        StepCheckpoint(nextStep: next, outputs: PostgresJSON(bytes: JSON.object(outputs).bytes))
    }

    func record(_ step: CycleDefinition.Step, started: Date, outcome: String, failure: StepFailure? = nil)
        -> StepRunRecord
    {
        StepRunRecord(
            rowID: failure?.rowID, jobID: job.id, stepID: step.id, attempt: job.attempt, startedAt: started,
            outcome: outcome, error: failure?.message, httpStatus: failure?.httpStatus)
    }

    /// What templates see, built when a step needs it (headers are parsed only then: most cycles never
    /// read them, and this runs for every job).
    var templateContext: [String: Any] {
        let headers = (try? JSON(parsing: job.headers.bytes)) ?? .object([:])
        return [
            "payload": payload.templateValue ?? "", "steps": JSON.object(outputs).templateValue ?? [:],
            "headers": headers.templateValue ?? [:], "account_id": job.accountID.lowercased, "job_id": String(job.id),
        ]
    }

    func source(_ source: CycleDefinition.Source) -> JSON {
        switch source {
        case .payload: payload
        case .step(let id): outputs[id] ?? .null
        }
    }

    mutating func execute(_ runner: CycleRunner) async throws -> JobResult {
        var index = job.nextStep
        while index < definition.steps.count {
            try Task.checkCancellation()
            let step = definition.steps[index]
            let started = Date()
            do {
                switch step.action {
                case .filter(let filter):
                    if let result = self.filter(step, filter, at: index, started: started) { return result }
                case .map(let fields):
                    outputs[step.id] = try await map(fields, runner: runner)
                    pending.append(record(step, started: started, outcome: "succeeded"))
                case .split(let source, let pointer):
                    return try await split(step, source: source, pointer: pointer, at: index, started: started, runner)
                case .http(let call):
                    try await http(step, call, at: index, started: started, runner)
                case .store(let key, let value):
                    try await store(step, key: key, value: value, at: index, started: started, runner)
                case .delay(let seconds):
                    pending.append(record(step, started: started, outcome: "succeeded"))
                    outputs[step.id] = .object(["seconds": .double(seconds)])
                    try await runner.queue.postpone(
                        job.id, worker: worker, seconds: seconds, checkpoint(next: index + 1), runs: pending)
                    return .postponed
                }
            } catch let failure as StepFailure {
                if let result = handle(failure, of: step, at: index, started: started) { return result }
            }
            index += 1
        }
        return .completed(outcome: "succeeded", checkpoint: checkpoint(next: index), runs: pending)
    }

    /// The rest of the cycle, when every step left runs in memory (see ``CycleDefinition/Step/runsInMemory``).
    mutating func executeInMemory() -> JobResult {
        var index = job.nextStep
        while index < definition.steps.count {
            let step = definition.steps[index]
            let started = Date()
            switch step.action {
            case .filter(let filter):
                if let result = self.filter(step, filter, at: index, started: started) { return result }
            case .map(let fields):
                outputs[step.id] = map(fields, context: templateContext, stored: [:])
                pending.append(record(step, started: started, outcome: "succeeded"))
            default:
                preconditionFailure("step \(step.id) does not run in memory")
            }
            index += 1
        }
        return .completed(outcome: "succeeded", checkpoint: checkpoint(next: index), runs: pending)
    }

    /// A `filter` step: the run's end (`filtered`) when the job does not match, else nil to go on.
    mutating func filter(_ step: CycleDefinition.Step, _ filter: CycleDefinition.Filter, at index: Int, started: Date)
        -> JobResult?
    {
        guard matches(filter) else {
            pending.append(record(step, started: started, outcome: "filtered"))
            return .completed(outcome: "filtered", checkpoint: checkpoint(next: index), runs: pending)
        }
        outputs[step.id] = .object(["matched": .bool(true)])
        pending.append(record(step, started: started, outcome: "succeeded"))
        return nil
    }

    /// Applies the cycle's `on_error`: a result that ends the run, or nil to go on with the next step.
    mutating func handle(_ failure: StepFailure, of step: CycleDefinition.Step, at index: Int, started: Date)
        -> JobResult?
    {
        let error = "step \(step.id): \(failure.message)"
        switch definition.onError {
        case .ignore:
            pending.append(record(step, started: started, outcome: "ignored", failure: failure))
            outputs[step.id] = failure.output ?? .object(["error": .string(failure.message)])
            return nil
        case .stop:
            pending.append(record(step, started: started, outcome: "failed", failure: failure))
            return .failed(error: error, permanent: true, checkpoint: checkpoint(next: index), runs: pending)
        case .retry:
            pending.append(
                record(step, started: started, outcome: failure.permanent ? "failed" : "retry", failure: failure))
            return .failed(
                error: error, permanent: failure.permanent, retryAfter: failure.retryAfter,
                checkpoint: checkpoint(next: index), runs: pending)
        }
    }

    // MARK: filter

    func matches(_ filter: CycleDefinition.Filter) -> Bool {
        let value = filter.pointer.resolve(in: source(filter.source))
        switch filter.condition {
        case .exists(let wanted): return (value != nil && value != .null) == wanted
        case .equals(let expected): return value.map { $0.sameValue(as: expected) } ?? false
        case .notEquals(let expected): return !(value.map { $0.sameValue(as: expected) } ?? false)
        case .oneOf(let list): return value.map { value in list.contains { value.sameValue(as: $0) } } ?? false
        case .greaterThan(let bound): return number(value).map { $0 > bound } ?? false
        case .greaterThanOrEqual(let bound): return number(value).map { $0 >= bound } ?? false
        case .lessThan(let bound): return number(value).map { $0 < bound } ?? false
        case .lessThanOrEqual(let bound): return number(value).map { $0 <= bound } ?? false
        }
    }

    /// A number, or a string that holds one (form fields and many payloads carry numbers as text).
    func number(_ value: JSON?) -> Double? {
        value?.number ?? value?.string.flatMap(Double.init)
    }

    // MARK: map and values

    func map(_ fields: [String: CycleDefinition.Value], runner: CycleRunner) async throws -> JSON {
        let context = templateContext
        let lookups = fields.values.compactMap { value -> String? in
            if case .lookup(let key) = value { return key.render(context) }
            return nil
        }
        return map(fields, context: context, stored: try await lookup(lookups, runner: runner))
    }

    /// A `map` step's output, once its lookups are done.
    func map(_ fields: [String: CycleDefinition.Value], context: [String: Any], stored: [String: JSON]) -> JSON {
        var object: [String: JSON] = [:]
        for (name, value) in fields {
            object[name] = evaluate(value, context: context, stored: stored)
        }
        return .object(object)
    }

    /// Values kept by `store` steps of this cycle, by key.
    func lookup(_ keys: [String], runner: CycleRunner) async throws -> [String: JSON] {
        guard !keys.isEmpty, let cycle = job.cycleID else { return [:] }
        var found: [String: JSON] = [:]
        do {
            for row in try await runner.database.query(
                "SELECT key, value FROM hookline.cycle_data WHERE cycle_id = \(cycle) AND key = ANY(\(keys))")
            {
                found[try row.decode(String.self, at: 0)] = try JSON(
                    parsing: try row.decode(PostgresJSON.self, at: 1).bytes)
            }
        } catch let error as PostgresError {
            throw StepFailure(message: "looking up stored values failed: \(error)", permanent: false)
        }
        return found
    }

    /// A value, with `context` built once per step by the caller.
    func evaluate(_ value: CycleDefinition.Value, context: [String: Any], stored: [String: JSON] = [:]) -> JSON {
        switch value {
        case .pointer(let source, let pointer): return pointer.resolve(in: self.source(source)) ?? .null
        case .literal(let json): return json
        case .template(let template): return .string(template.render(context))
        case .lookup(let key): return stored[key.render(context)] ?? .null
        case .structure(let json): return render(json, context: context)
        }
    }

    /// A JSON structure with every string rendered as a template.
    func render(_ json: JSON, context: [String: Any]) -> JSON {
        switch json {
        case .string(let text) where text.contains("{{"):
            return .string((try? Template(text))?.render(context) ?? text)
        case .array(let items): return .array(items.map { render($0, context: context) })
        case .object(let fields): return .object(fields.mapValues { render($0, context: context) })
        default: return json
        }
    }

    // MARK: split

    /// One child job per element, each running the steps after this one with the element as its payload, in
    /// one transaction with the parent's checkpoint; the parent is then done (outcome `split`).
    mutating func split(
        _ step: CycleDefinition.Step, source: CycleDefinition.Source, pointer: JSONPointer, at index: Int,
        started: Date, _ runner: CycleRunner
    ) async throws -> JobResult {
        guard let elements = pointer.resolve(in: self.source(source))?.array else {
            throw StepFailure(message: "\(pointer) is not an array", permanent: true)
        }
        outputs[step.id] = .object(["children": .int(Int64(elements.count))])
        pending.append(record(step, started: started, outcome: "succeeded"))
        let bodies = elements.map { $0.bytes }
        let job = job
        let childOutputs = PostgresJSON(bytes: JSON.object(outputs).bytes)
        try await runner.queue.checkpoint(
            job.id, worker: worker, checkpoint(next: definition.steps.count), runs: pending
        ) {
            connection in
            guard !bodies.isEmpty else { return }
            try connection.query(
                """
                INSERT INTO hookline.jobs
                    (account_id, webhook_id, cycle_id, cycle_version, parent_id, priority, max_attempts, next_step,
                     step_outputs, headers, content_type, body, received_at)
                SELECT account_id, webhook_id, cycle_id, cycle_version, id, priority, max_attempts, \(index + 1),
                       \(childOutputs), headers, 'application/json', child.body, received_at
                FROM hookline.jobs, unnest(\(bodies.map { Data($0) })::bytea[]) AS child(body)
                WHERE id = \(job.id)
                """)
            try connection.notify(JobNotifications.channel)
        }
        pending = []
        return .completed(outcome: "split")
    }

    // MARK: store

    mutating func store(
        _ step: CycleDefinition.Step, key: Template, value: CycleDefinition.Value, at index: Int, started: Date,
        _ runner: CycleRunner
    ) async throws {
        guard let cycle = job.cycleID else { return }
        let context = templateContext
        let key = key.render(context)
        guard !key.isEmpty else { throw StepFailure(message: "the key rendered empty", permanent: true) }
        let stored = evaluate(value, context: context)
        outputs[step.id] = .object(["key": .string(key), "value": stored])
        pending.append(record(step, started: started, outcome: "succeeded"))
        let json = PostgresJSON(bytes: stored.bytes)
        try await runner.queue.checkpoint(job.id, worker: worker, checkpoint(next: index + 1), runs: pending) {
            connection in
            try connection.query(
                """
                INSERT INTO hookline.cycle_data (cycle_id, key, value) VALUES (\(cycle), \(key), \(json))
                ON CONFLICT (cycle_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                """)
        }
        pending = []
    }

    // MARK: http

    mutating func http(
        _ step: CycleDefinition.Step, _ call: CycleDefinition.HTTPCall, at index: Int, started: Date,
        _ runner: CycleRunner
    ) async throws {
        let context = templateContext
        let url = call.url.render(context)
        var headers: [(String, String)] = call.headers.sorted { $0.key < $1.key }.map {
            ($0.key, $0.value.render(context))
        }
        var body: [UInt8]?
        if let value = call.body {
            let json = evaluate(value, context: context)
            switch (value, json) {
            case (.template, .string(let text)):
                body = Array(text.utf8)
                if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                    headers.append(("Content-Type", "text/plain; charset=utf-8"))
                }
            default:
                body = json.bytes
                if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                    headers.append(("Content-Type", "application/json"))
                }
            }
        }
        headers.append(("Idempotency-Key", "\(job.id)-\(step.id)"))
        let rowID = try await runner.queue.startStep(job: job.id, step: step.id, attempt: job.attempt, at: started)
        let response: HTTPCaller.Response
        do {
            response = try await runner.caller.call(
                method: call.method, url: url, headers: headers, body: body, timeout: call.timeoutSeconds)
        } catch var failure as StepFailure {
            failure.rowID = rowID
            throw failure
        }
        outputs[step.id] = response.output
        var finished = record(step, started: started, outcome: "succeeded")
        finished.rowID = rowID
        finished.httpStatus = response.status
        pending.append(finished)
        try await runner.queue.checkpoint(job.id, worker: worker, checkpoint(next: index + 1), runs: pending)
        pending = []
    }
}
