import Foundation

/// A PostgreSQL cluster of one test's own, run through `scripts/pg`, for tests that stop and start the
/// server (which the shared test cluster cannot allow).
public final class PrivateCluster: Sendable {
    public let directory: String
    public let port: Int
    public let url: String

    /// Creates and starts a cluster in a temporary directory on a free port.
    ///
    /// The port is below Linux's ephemeral ports (32768–60999): there, any outgoing connection of the tests
    /// running beside this one could hold it (a start failed so, "Address already in use"). A port another
    /// test's server holds is given up for another, a few times.
    public static func start() async throws -> PrivateCluster {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hookline-private-\(UUID().uuidString.prefix(8))").path
        var tries = 0
        while true {
            let port = Int.random(in: 20000..<32768)
            let cluster = PrivateCluster(directory: directory, port: port, url: "")
            do {
                try await cluster.run("start")
            } catch let error as PrivateClusterError where error.message.contains("Address already in use") && tries < 4
            {
                tries += 1
                continue
            }
            let url = try await cluster.run("url").trimmingCharacters(in: .whitespacesAndNewlines)
            return PrivateCluster(directory: directory, port: port, url: url)
        }
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
