import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A program left running in the background, with its output in a file: for tests that signal it (SIGTERM,
/// SIGKILL) and watch what it does. Spawned with `posix_spawn` and reaped with `waitpid`, like
/// ``ChildProcess``.
public final class BackgroundProcess: Sendable {
    public let pid: pid_t
    public let logFile: String
    private let reaped = Atomic(false)

    public init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("bg-\(UUID().uuidString).log").path
        let pid = try spawn(executable, arguments, environment: environment, stdout: logFile, stderr: nil)
        self.pid = pid
    }

    /// Everything it printed so far.
    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for it to exit (at most `timeout`, then SIGKILL) and returns its exit status, or 128 + the signal
    /// that ended it.
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let pid = pid
        let killer = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        defer { killer.cancel() }
        let status = try await onOwnThread { waitForExitStatus(pid) }
        reaped.store(true, ordering: .sequentiallyConsistent)
        return status
    }

    deinit {
        if !reaped.load(ordering: .sequentiallyConsistent) {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        unlink(logFile)
    }
}
