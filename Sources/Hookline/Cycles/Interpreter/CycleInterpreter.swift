import Foundation
import Postgres

/// One run of one job through its cycle: the loop over the steps, the job's values as the steps see them,
/// and what a failed step does to the run (`on_error`). Each step type but `delay` (a few lines here) is in a
/// `CycleInterpreter+<step>.swift` file.
///
/// The interpreter decides; ``CycleEffects`` acts. Steps without effects outside the job (`filter`, `map`
/// without lookups) run in memory, and their step runs are written with whatever the job does next. A step
/// with effects (`http`, `store`, `split`, `delay`) is followed at once by a checkpoint (its output and the
/// next step, in one transaction with its own writes), so that a retry does not repeat it.
public struct CycleInterpreter: Sendable {
    let job: ClaimedJob
    let definition: CycleDefinition
    let payload: JSON
    /// Whether the body parsed as JSON with no key given twice (``forwardsBody``).
    let bodyIsPlainJSON: Bool
    var outputs: [String: JSON]
    /// Step runs not written yet.
    var pending: [StepRunRecord] = []
    /// What the run may take of the worker: its templates, its outputs.
    let limits: CycleLimits
    /// What `outputs` come to, as counted against ``CycleLimits/maxOutputBytes``: counted by the first
    /// ``keep(_:of:)``, so that a run that keeps nothing (a filter) does not walk its saved outputs.
    var outputBytes: Int?
    /// Why the run cannot start, if it cannot: the body says it is JSON (its content type) but does not parse,
    /// or the outputs saved by earlier steps cannot be read back. It then fails for good rather than going on
    /// with something else: the body as text (a filter on it would end the job `filtered`, an http step would
    /// forward it as a JSON string), or without the outputs.
    let unreadable: String?

    /// How deep saved outputs may nest when read back: a payload, a definition's literal or an `http` answer
    /// nests up to 512 levels (``JSON/defaultMaxDepth``), and each of at most ``CycleDefinition/maxSteps``
    /// steps can put it up to two levels further down (a field of a map, the step's place among the outputs).
    public static let maxOutputDepth = 1024

    public init(job: ClaimedJob, definition: CycleDefinition, limits: CycleLimits = CycleLimits()) {
        self.job = job
        self.definition = definition
        self.limits = limits
        var unreadable: String?
        do {
            let (json, duplicateKeys) = try JSON.parsingNotingDuplicateKeys(job.body)
            (payload, bodyIsPlainJSON) = (json, !duplicateKeys)
        } catch {
            (payload, bodyIsPlainJSON) = (Self.payload(ofNonJSON: job), false)
            if let type = job.contentType, Self.saysJSON(type) {
                unreadable = "the body is \(type) but cannot be read as JSON: \(error)"
            }
        }
        do {
            outputs = try JSON(parsing: job.stepOutputs.bytes, maxDepth: Self.maxOutputDepth).object ?? [:]
        } catch {
            outputs = [:]
            unreadable = "the job's saved step outputs cannot be read: \(error)"
        }
        self.unreadable = unreadable
    }

    /// Whether a step that forwards the payload sends the body's own bytes (its order, spacing and numbers: one
    /// past 64 bits would come back as a double if written again). Not for a body with a key given twice or
    /// bytes that are not UTF-8: the steps saw the payload as parsed (the last of the keys, U+FFFD), and a
    /// destination must get what they saw, not what its own parser makes of the text (the first of the keys,
    /// say, past a filter that checked the last). Asked only by a step that forwards the payload.
    var forwardsBody: Bool { bodyIsPlainJSON && String(validating: job.body, as: UTF8.self) != nil }

    /// A body that is not JSON: an object of fields when it is a form, else text.
    static func payload(ofNonJSON job: ClaimedJob) -> JSON {
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

    func checkpoint(next: Int) -> StepCheckpoint {
        StepCheckpoint(nextStep: next, outputs: PostgresJSON(bytes: JSON.object(outputs).storedBytes))
    }

    func record(_ step: CycleDefinition.Step, started: Date, outcome: StepRunOutcome, failure: StepFailure? = nil)
        -> StepRunRecord
    {
        StepRunRecord(
            rowID: failure?.rowID, jobID: job.id, stepID: step.id, attempt: job.attempt, startedAt: started,
            outcome: outcome, error: failure?.message, httpStatus: failure?.httpStatus)
    }

    /// What a step's templates see, with the budget they share, built when a step needs it (headers are
    /// parsed only then: most cycles never read them, and this runs for every job).
    var templateContext: TemplateContext {
        let headers = (try? JSON(parsing: job.headers.bytes)) ?? .object([:])
        return TemplateContext(
            [
                "payload": payload, "steps": .object(outputs), "headers": headers,
                "account_id": .string(job.accountID.lowercased), "job_id": .string(String(job.id)),
            ], budget: TemplateBudget(limit: limits.maxTemplateBytes))
    }

    func source(_ source: CycleDefinition.Source) -> JSON {
        switch source {
        case .payload: payload
        case .step(let id): outputs[id] ?? .null
        }
    }

    /// Runs the steps from the job's next one.
    ///
    /// - Throws: `CancellationError` when the worker cancelled the run (it is shutting down, or lost the
    ///   lease) — also when a step then failed, since its failure may be the cancellation itself (a database
    ///   call cut short): the job goes back without the attempt counted. ``LeaseLost`` as `effects` throw it.
    public mutating func execute(_ effects: some CycleEffects) async throws -> JobResult {
        if let refusal { return refusal }
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
                    try keep(try await map(fields, effects), of: step)
                    pending.append(record(step, started: started, outcome: .succeeded))
                case .split(let source, let pointer, let maxItems):
                    return try await split(
                        step, source: source, pointer: pointer, maxItems: maxItems, at: index, started: started,
                        effects)
                case .http(let call):
                    try await http(step, call, at: index, started: started, effects)
                case .store(let key, let value):
                    try await store(step, key: key, value: value, at: index, started: started, effects)
                case .delay(let seconds):
                    pending.append(record(step, started: started, outcome: .succeeded))
                    outputs[step.id] = .object(["seconds": .double(seconds)])
                    try await effects.save(
                        job: job.id, checkpoint(next: index + 1), runs: pending, with: .postpone(seconds: seconds))
                    return .postponed
                }
            } catch let failure as StepFailure {
                try Task.checkCancellation()
                if let result = handle(failure, of: step, at: index, started: started) { return result }
            } catch let exceeded as TemplateBudget.Exceeded {
                if let result = handle(Self.failure(exceeded), of: step, at: index, started: started) { return result }
            } catch {
                try Task.checkCancellation()
                throw error
            }
            index += 1
        }
        return .completed(outcome: .succeeded, checkpoint: checkpoint(next: index), runs: pending)
    }

    /// The rest of the cycle, when it runs in memory (``CycleDefinition/runsInMemory(from:)``): no effect, no
    /// suspension.
    public mutating func executeInMemory() -> JobResult {
        if let refusal { return refusal }
        var index = job.nextStep
        while index < definition.steps.count {
            let step = definition.steps[index]
            let started = Date()
            switch step.action {
            case .filter(let filter):
                if let result = self.filter(step, filter, at: index, started: started) { return result }
            case .map(let fields):
                do {
                    try keep(try map(fields, context: templateContext, stored: [:]), of: step)
                    pending.append(record(step, started: started, outcome: .succeeded))
                } catch {
                    if let result = handle(Self.failure(error), of: step, at: index, started: started) { return result }
                }
            default:
                preconditionFailure("step \(step.id) does not run in memory")
            }
            index += 1
        }
        return .completed(outcome: .succeeded, checkpoint: checkpoint(next: index), runs: pending)
    }

    /// The end of a run that cannot start (``unreadable``): the job fails for good, its outputs as they were.
    var refusal: JobResult? { unreadable.map { .failed(error: $0, permanent: true) } }

    /// Whether a content type says JSON: `application/json`, or any `+json` type (`application/cloudevents+json`).
    static func saysJSON(_ contentType: String) -> Bool {
        // An empty type (a sender's `Content-Type:` with nothing after it) splits into nothing.
        let type = (contentType.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        return type == "application/json" || type.hasSuffix("+json")
    }

    /// A step whose templates ran past their budget (they would on every try), or that failed otherwise.
    static func failure(_ error: any Error) -> StepFailure {
        error as? StepFailure ?? StepFailure(message: "\(error)", permanent: true)
    }

    /// Keeps `output` as the step's, counted with the job's other outputs against
    /// ``CycleLimits/maxOutputBytes``.
    /// - Throws: a failure for good when they would come to more (so would they on every attempt); the output
    ///   is not kept.
    mutating func keep(_ output: JSON, of step: CycleDefinition.Step) throws(StepFailure) {
        let used = outputBytes ?? JSON.object(outputs).size(atMost: .max) ?? 0
        guard let size = output.size(atMost: limits.maxOutputBytes - used) else {
            throw StepFailure(
                message: "its output would bring the job's step outputs past \(limits.maxOutputBytes) bytes"
                    + " (hookline work --max-output-bytes)", permanent: true)
        }
        outputBytes = used + size
        outputs[step.id] = output
    }

    /// Applies the cycle's `on_error`: a result that ends the run, or nil to go on with the next step.
    mutating func handle(_ failure: StepFailure, of step: CycleDefinition.Step, at index: Int, started: Date)
        -> JobResult?
    {
        let error = "step \(step.id): \(failure.message)"
        switch definition.onError {
        case .ignore:
            pending.append(record(step, started: started, outcome: .ignored, failure: failure))
            do {
                try keep(failure.output ?? .object(["error": .string(failure.message)]), of: step)
            } catch {
                outputs[step.id] = .object(["error": .string(failure.message)])  // the failure's output, too large
            }
            return nil
        case .stop:
            pending.append(record(step, started: started, outcome: .failed, failure: failure))
            return .failed(error: error, permanent: true, checkpoint: checkpoint(next: index), runs: pending)
        case .retry:
            pending.append(
                record(step, started: started, outcome: failure.permanent ? .failed : .retry, failure: failure))
            return .failed(
                error: error, permanent: failure.permanent, retryAfter: failure.retryAfter,
                checkpoint: checkpoint(next: index), runs: pending)
        }
    }
}

extension CycleDefinition {
    /// Whether the steps from `step` on need nothing but the job: `filter`, and `map` without `lookup` values.
    public func runsInMemory(from step: Int) -> Bool {
        steps.dropFirst(step).allSatisfy { step in
            switch step.action {
            case .filter: true
            case .map(let fields):
                !fields.values.contains { value in
                    if case .lookup = value { return true }
                    return false
                }
            default: false
            }
        }
    }
}
