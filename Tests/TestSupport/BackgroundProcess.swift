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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
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
        let status = try await onOwnThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
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
