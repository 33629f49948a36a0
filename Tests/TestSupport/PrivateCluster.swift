import Foundation

/// A PostgreSQL cluster of one test's own, run through `scripts/pg`, for tests that stop and start the
/// server (which the shared test cluster cannot allow).
public final class PrivateCluster: Sendable {
    public let directory: String
    public let port: Int
    public let url: String

    /// Creates and starts a cluster in a temporary directory on a free port.
    public static func start() async throws -> PrivateCluster {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hookline-private-\(UUID().uuidString.prefix(8))").path
        let port = Int.random(in: 40000..<60000)
        let cluster = PrivateCluster(directory: directory, port: port, url: "")
        try await cluster.run("start")
        let url = try await cluster.run("url").trimmingCharacters(in: .whitespacesAndNewlines)
        return PrivateCluster(directory: directory, port: port, url: url)
    }

    private init(directory: String, port: Int, url: String) {
        self.directory = directory
        self.port = port
        self.url = url
    }

    public func stop() async throws { try await run("stop") }
    public func restart() async throws { try await run("start") }
    public func destroy() async { _ = try? await run("destroy") }

    /// Runs `scripts/pg COMMAND` for this cluster and returns its standard output.
    @discardableResult
    func run(_ command: String) async throws -> String {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/pg").path
        let (directory, port) = (self.directory, self.port)
        var environment = ProcessInfo.processInfo.environment
        environment["HOOKLINE_PG_DIR"] = directory
        environment["HOOKLINE_PG_PORT"] = String(port)
        let outcome = try await ChildProcess.run("/bin/bash", [script, command], environment: environment)
        guard outcome.status == 0 else {
            throw PrivateClusterError(message: "scripts/pg \(command) exited \(outcome.status): \(outcome.stderr)")
        }
        return outcome.stdout
    }
}

struct PrivateClusterError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
