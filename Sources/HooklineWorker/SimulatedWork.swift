import Foundation
import Hookline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A test and benchmark aid (`hookline work --simulated-work DIR`): instead of running cycles, each job
/// follows instructions in its own JSON payload, and every run is written down in a record of the worker
/// process's own (`DIR/worker-<pid>.log`), independent of the queue's tables.
///
/// Payload keys, all optional: `sleep_ms` (how long the job takes), `fail` (an error message: the run
/// fails), `permanent` (with `fail`: the failure is not worth retrying). The record holds one line when a
/// run starts (`start <job> <attempt>`) and one when it ends (`done <job> <attempt> <result>`); a run
/// that was cancelled or killed has no `done` line.
public struct SimulatedWork: JobRunner {
    private let descriptor: Int32

    public init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("worker-\(getpid()).log")
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    struct Instructions: Decodable {
        var sleepMilliseconds: Int?
        var fail: String?
        var permanent: Bool?

        enum CodingKeys: String, CodingKey {
            case sleepMilliseconds = "sleep_ms"
            case fail, permanent
        }
    }

    public func run(_ job: ClaimedJob, worker: String) async throws -> JobResult {
        let instructions = (try? JSONDecoder().decode(Instructions.self, from: job.body))
        record("start \(job.id) \(job.attempt)")
        if let milliseconds = instructions?.sleepMilliseconds, milliseconds > 0 {
            try await Task.sleep(for: .milliseconds(milliseconds))
        }
        if let error = instructions?.fail {
            record("done \(job.id) \(job.attempt) failed")
            return .failed(error: error, permanent: instructions?.permanent ?? false)
        }
        record("done \(job.id) \(job.attempt) succeeded")
        return .completed(outcome: .succeeded)
    }

    /// One line, in one `write(2)` on a descriptor opened for appending, so that lines of concurrent runs
    /// never interleave and a line written survives the process being killed.
    private func record(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
