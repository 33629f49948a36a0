import Foundation
import Postgres
import Synchronization

@testable import Hookline

/// Effects that keep what they are asked, as lines, and answer calls with 200 (or a given failure).
final class RecordingEffects: CycleEffects {
    private let log = Mutex<[String]>([])
    private let requests = Mutex<[OutboundRequest]>([])
    private let stored: [String: JSON]
    private let failure: StepFailure?

    init(stored: [String: JSON] = [:], failure: StepFailure? = nil) {
        self.stored = stored
        self.failure = failure
    }

    var events: [String] { log.withLock { $0 } }
    var calls: [OutboundRequest] { requests.withLock { $0 } }

    func storedValues(cycle: UUID, keys: [String]) async throws -> [String: JSON] {
        log.withLock { $0.append("lookup \(keys.sorted())") }
        return stored.filter { keys.contains($0.key) }
    }

    func startStep(job: Int64, step: String, attempt: Int, at started: Date) async throws -> Int64 {
        log.withLock { $0.append("start \(step)") }
        return 1000
    }

    func call(_ request: OutboundRequest) async throws -> OutboundResponse {
        log.withLock { $0.append("call \(request.method) \(request.url)") }
        requests.withLock { $0.append(request) }
        if let failure { throw failure }
        return OutboundResponse(status: 200, output: .object(["status": .int(200)]))
    }

    func save(job: Int64, _ checkpoint: StepCheckpoint, runs: [StepRunRecord], with write: CheckpointWrite)
        async throws
    {
        let shown = runs.map { "\($0.stepID) \($0.outcome.rawValue)" + ($0.httpStatus.map { " \($0)" } ?? "") }
        let what: String
        switch write {
        case .none: what = "none"
        case .store(_, let key, let value): what = "store \(key) = \(String(decoding: value.bytes, as: UTF8.self))"
        case .children(let next, let outputs, let bodies, let headers):
            what =
                "children from \(next) outputs \(String(decoding: outputs.bytes, as: UTF8.self)) headers \(headers): "
                + bodies.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " | ")
        case .postpone(let seconds): what = "postpone \(seconds)"
        }
        log.withLock { $0.append("save next \(checkpoint.nextStep) runs [\(shown.joined(separator: ", "))] \(what)") }
    }
}
