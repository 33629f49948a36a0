import Foundation

extension CycleInterpreter {
    /// An `http` step: writes its step run, makes the call, and checkpoints its answer.
    ///
    /// The body is the step's `body`, `body_from` or `body_template`; a POST, PUT or PATCH that gives none
    /// forwards the payload (a split child's element) as JSON.
    mutating func http(
        _ step: CycleDefinition.Step, _ call: CycleDefinition.HTTPCall, at index: Int, started: Date,
        _ effects: some CycleEffects
    ) async throws {
        let context = templateContext
        let url = try call.url.render(context)
        var headers = try call.headers.sorted { $0.key < $1.key }.map {
            OutboundRequest.Header($0.key, try $0.value.render(context))
        }
        let typed = headers.contains { $0.name.lowercased() == "content-type" }
        var body: [UInt8]?
        switch call.body {
        case let value?:
            let json = try evaluate(value, context: context)
            switch (value, json) {
            case (.template, .string(let text)):
                body = Array(text.utf8)
                if !typed { headers.append(.init("Content-Type", "text/plain; charset=utf-8")) }
            default:
                body = json.bytes
                if !typed { headers.append(.init("Content-Type", "application/json")) }
            }
        case nil where CycleDefinition.HTTPCall.bodyMethods.contains(call.method):
            body = forwardsBody ? Array(job.body) : payload.bytes
            if !typed { headers.append(.init("Content-Type", "application/json")) }
        case nil:
            break
        }
        headers.append(.init("Idempotency-Key", "\(job.id)-\(step.id)"))
        let rowID = try await effects.startStep(job: job.id, step: step.id, attempt: job.attempt, at: started)
        let response: OutboundResponse
        do {
            response = try await effects.call(
                OutboundRequest(
                    method: call.method, url: url, headers: headers, body: body, timeoutSeconds: call.timeoutSeconds))
        } catch var failure as StepFailure {
            failure.rowID = rowID
            throw failure
        }
        do {
            try keep(response.output, of: step)
        } catch var failure {
            failure.rowID = rowID
            throw failure
        }
        var finished = record(step, started: started, outcome: .succeeded)
        finished.rowID = rowID
        finished.httpStatus = response.status
        pending.append(finished)
        try await effects.save(job: job.id, checkpoint(next: index + 1), runs: pending, with: .none)
        pending = []
    }
}
