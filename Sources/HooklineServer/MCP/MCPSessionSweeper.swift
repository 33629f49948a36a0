import HooklineMCP
import ServiceLifecycle

/// Ends idle MCP sessions every few seconds, and every session at shutdown.
struct MCPSessionSweeper: Service {
    let sessions: MCPSessions
    var interval: Duration = .seconds(5)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await sessions.expire()
            }
        }
        await sessions.closeAll()
    }
}
