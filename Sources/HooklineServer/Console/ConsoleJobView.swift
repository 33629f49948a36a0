import Foundation
import Hookline
import Postgres

/// What a job's console page shows: its fields, its body (pretty-printed when it is JSON), its headers, its
/// errors by attempt and its step runs with their timings and outputs.
struct ConsoleJobView {
    struct Field {
        var name: String
        var value: String
    }
    struct Failure {
        var attempt: String
        var at: String
        var error: String
    }
    struct StepRunRow {
        var step: String
        var attempt: Int
        var started: String
        var duration: String
        var outcome: String
        var error: String?
        var output: String?
    }

    var csrf: String
    var notice: String?
    var id: Int64
    var state: String
    var outcome: String?
    var accountID: String
    var accountName: String
    var fields: [Field]
    var body: String
    var bodyNote: String?
    var headers: [Field]
    var errors: [Failure]
    var stepRuns: [StepRunRow]
    var canRetry: Bool
    var canCancel: Bool
    /// Whether the page refreshes itself (the job is still to finish).
    var live: Bool
    var navJobs = true

    init(_ job: JobDetail, accountName: String?, cycleName: String?, csrf: String, notice: String?) {
        self.csrf = csrf
        self.notice = notice
        id = job.id
        state = job.state.rawValue
        outcome = job.outcome?.rawValue
        accountID = job.accountID.lowercased
        self.accountName = accountName ?? job.accountID.lowercased
        var fields: [Field] = [
            .init(name: "Attempts", value: "\(job.attempt) of \(job.maxAttempts)"),
            .init(name: "Received", value: ConsoleFormat.time(job.receivedAt)),
        ]
        if let cycle = job.cycleID {
            let version = job.cycleVersion.map { " v\($0)" } ?? ""
            fields.append(.init(name: "Cycle", value: "\(cycleName ?? cycle.lowercased)\(version)"))
        }
        if let webhook = job.webhookID { fields.append(.init(name: "Webhook", value: webhook.lowercased)) }
        if let parent = job.parentID { fields.append(.init(name: "Parent job", value: "\(parent)")) }
        if let runAt = job.runAt { fields.append(.init(name: "Runs at", value: ConsoleFormat.time(runAt))) }
        if let finished = job.finishedAt { fields.append(.init(name: "Finished", value: ConsoleFormat.time(finished))) }
        if let worker = job.lockedBy { fields.append(.init(name: "Worker", value: worker)) }
        if let key = job.idempotencyKey { fields.append(.init(name: "Idempotency key", value: key)) }
        if let type = job.contentType { fields.append(.init(name: "Content type", value: type)) }
        self.fields = fields

        if let pretty = Self.prettyJSON(Array(job.body)) {
            body = pretty
        } else if let text = String(data: job.body, encoding: .utf8) {
            body = text
        } else {
            body = job.body.base64EncodedString()
            bodyNote = "The body is not UTF-8 text; shown in base64."
        }
        let headerObject = (try? JSON(parsing: job.headers.bytes))?.object ?? [:]
        headers = headerObject.keys.sorted().map { name in
            .init(name: name, value: headerObject[name]?.string ?? Self.text(headerObject[name]))
        }
        errors = ((try? JSON(parsing: job.errors.bytes))?.array ?? []).map { entry in
            Failure(
                attempt: entry["attempt"].map(Self.text) ?? "", at: Self.time(entry["at"]?.string),
                error: entry["error"]?.string ?? Self.text(entry))
        }
        // A step's output is kept once, from its run that succeeded (the last one): show it there only.
        let outputs =
            (try? JSON(parsing: job.stepOutputs.bytes, maxDepth: CycleInterpreter.maxOutputDepth))?.object ?? [:]
        let succeeded = Dictionary(
            job.stepRuns.indices.filter { job.stepRuns[$0].outcome == .succeeded }.map {
                (job.stepRuns[$0].stepID, $0)
            },
            uniquingKeysWith: { _, last in last })
        stepRuns = job.stepRuns.indices.map { index -> StepRunRow in
            let run = job.stepRuns[index]
            return StepRunRow(
                step: run.stepID, attempt: run.attempt, started: ConsoleFormat.time(run.startedAt),
                duration: run.finishedAt.map { ConsoleFormat.seconds($0.timeIntervalSince(run.startedAt)) }
                    ?? "running",
                outcome: run.outcome?.rawValue ?? "", error: run.error,
                output: succeeded[run.stepID] == index ? outputs[run.stepID].flatMap { Self.prettyJSON($0.bytes) } : nil
            )
        }
        canRetry = job.state.isRetryable
        canCancel = job.state == .available || job.state == .held
        live = JobState.waitingOrRunning.contains(job.state)
    }

    /// `bytes` indented, when they are JSON.
    static func prettyJSON(_ bytes: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// An ISO 8601 time from the errors list, written as the console writes times (as given if it does not parse).
    static func time(_ text: String?) -> String {
        guard let text else { return "" }
        let parsed = try? Date(text, strategy: .iso8601)
        return parsed.map { ConsoleFormat.time($0) } ?? text
    }

    static func text(_ value: JSON?) -> String {
        guard let value else { return "" }
        return value.text
    }
}
