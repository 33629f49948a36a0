import Foundation
import Hookline

extension CycleRun {
    /// An `http` step: writes its step run, makes the call (``HTTPCaller``), and checkpoints its answer.
    ///
    /// The body is the step's `body`, `body_from` or `body_template`; a POST, PUT or PATCH that gives none
    /// forwards the payload (a split child's element) as JSON.
    mutating func http(
        _ step: CycleDefinition.Step, _ call: CycleDefinition.HTTPCall, at index: Int, started: Date,
        _ runner: CycleRunner
    ) async throws {
        let context = templateContext
        let url = call.url.render(context)
        var headers: [(String, String)] = call.headers.sorted { $0.key < $1.key }.map {
            ($0.key, $0.value.render(context))
        }
        let typed = headers.contains { $0.0.lowercased() == "content-type" }
        var body: [UInt8]?
        switch call.body {
        case let value?:
            let json = evaluate(value, context: context)
            switch (value, json) {
            case (.template, .string(let text)):
                body = Array(text.utf8)
                if !typed { headers.append(("Content-Type", "text/plain; charset=utf-8")) }
            default:
                body = json.bytes
                if !typed { headers.append(("Content-Type", "application/json")) }
            }
        case nil where CycleDefinition.HTTPCall.bodyMethods.contains(call.method):
            body = payload.bytes
            if !typed { headers.append(("Content-Type", "application/json")) }
        case nil:
            break
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
        var finished = record(step, started: started, outcome: .succeeded)
        finished.rowID = rowID
        finished.httpStatus = response.status
        pending.append(finished)
        try await runner.queue.checkpoint(job.id, worker: worker, checkpoint(next: index + 1), runs: pending)
        pending = []
    }
}
