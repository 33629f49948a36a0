import Foundation
import TestSupport

/// Runs the built `hookline` binary, as an operator would.
enum HooklineBinary {
    static var path: String {
        // The test runner sits in the build folder beside the `hookline` executable.
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("hookline").path
    }

    struct Outcome: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Outcome {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DATABASE_URL")
        env.merge(environment) { $1 }
        let outcome = try await ChildProcess.run(path, arguments, environment: env)
        return Outcome(status: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
    }
}

extension HooklineBinary {
    /// Runs a command that prints JSON and decodes it; records the stderr of a failure.
    static func json(_ arguments: [String], url: String) async throws -> Any {
        let outcome = try await run(arguments + ["--json", "--database-url", url])
        guard outcome.status == 0 else {
            throw CommandFailed(arguments: arguments, stderr: outcome.stderr)
        }
        return try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var arguments: [String]
        var stderr: String
        var description: String { "hookline \(arguments.joined(separator: " ")) failed: \(stderr)" }
    }

    /// A running `hookline serve`, with its output going to a file.
    ///
    /// Spawned with `posix_spawn` (``BackgroundProcess``) like every other child of the tests, not with
    /// Foundation's `Process`: on Linux, `Process` watches its child through a socket pair that
    /// CoreFoundation's socket thread selects on and closes, while this process's event loops reuse freed
    /// descriptor numbers at once. It is the suspect of intermittent crashes of the test process in which
    /// NIO found a descriptor it had registered closed by someone else.
    final class Server: Sendable {
        let process: BackgroundProcess
        let port: Int

        init(url: String, port: Int, arguments: [String] = [], environment extra: [String: String] = [:]) throws {
            self.port = port
            var environment = ProcessInfo.processInfo.environment
            environment["HOOKLINE_PORT"] = String(port)
            environment.merge(extra) { $1 }
            process = try BackgroundProcess(
                HooklineBinary.path,
                ["serve", "--host", "127.0.0.1", "--database-url", url, "--log-level", "trace"] + arguments,
                environment: environment)
        }

        var log: String { process.log }

        /// Sends SIGTERM and waits for the exit status.
        func terminate() async throws -> Int32 {
            process.signal(SIGTERM)
            return try await waitForExit()
        }

        /// Waits for the exit status.
        func waitForExit() async throws -> Int32 { try await process.waitForExit() }
    }

    /// `count` consecutive TCP ports that nothing listens on right now; returns the first.
    static func freePorts(_ count: Int) throws -> Int {
        for _ in 0..<50 {
            let first = try freePort()
            if (1..<count).allSatisfy({ canBind(first + $0) }) { return first }
        }
        throw CommandFailed(arguments: ["freePorts"], stderr: "no \(count) consecutive free ports")
    }

    static func canBind(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        return bindLoopback(descriptor, port: port)
    }

    /// Binds a TCP socket to 127.0.0.1:`port`; whether that worked.
    static func bindLoopback(_ descriptor: Int32, port: Int) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// A TCP port that nothing listens on right now.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw CommandFailed(arguments: ["freePort"], stderr: "bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
