import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a program to its end with its output captured in temporary files, not pipes.
///
/// Spawned with `posix_spawn` and reaped with `waitpid`: a child that starts a daemon (`scripts/pg start`
/// starts PostgreSQL) must neither pass it one of our pipes (whose reader would wait for an end of file that
/// never comes) nor confuse the process monitor of Foundation's `Process`, which was seen never to report the
/// exit of such a child.
public struct ChildProcess: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]
    ) async throws -> ChildProcess {
        try await onOwnThread {
            let directory = FileManager.default.temporaryDirectory
            let out = directory.appendingPathComponent("child-\(UUID().uuidString).out").path
            let err = directory.appendingPathComponent("child-\(UUID().uuidString).err").path
            defer {
                unlink(out)
                unlink(err)
            }
            let pid = try spawn(executable, arguments, environment: environment, stdout: out, stderr: err)
            return ChildProcess(
                status: waitForExitStatus(pid),
                stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        }
    }
}

/// Starts `executable` with stdin from /dev/null and stdout and stderr into files (the same file when
/// `stderr` is nil).
func spawn(
    _ executable: String, _ arguments: [String], environment: [String: String], stdout: String, stderr: String?
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if let stderr {
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
    return pid
}

/// Waits (blocking) for the process to end: its exit status, or 128 + the signal that ended it.
func waitForExitStatus(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}
