import Foundation
import Hookline
import Logging
import MCP

/// An instance's open MCP sessions: one SDK `Server` and Streamable HTTP transport per session, found by its
/// `Mcp-Session-Id`.
///
/// A session lives in the memory of the instance that answered its `initialize`: a load balancer must send
/// a session's requests to that instance (affinity on the `Mcp-Session-Id` header). Elsewhere the id is
/// unknown and the request gets 404, upon which the MCP client starts a new session (the transport
/// specification's rule); no call is lost, since each call's job is committed before it is awaited, and a
/// call repeated with its `idempotency_key` finds its first job.
public actor MCPSessions {
    struct Session {
        let mcpServerID: UUID
        let server: Server
        let transport: StatefulHTTPServerTransport
        var lastUsed: ContinuousClock.Instant
        var requests: Int
    }

    private let limits: MCPSessionLimits
    private let directory: MCPServerDirectory
    private let factory: MCPSessionServer
    private let validation: any HTTPRequestValidationPipeline
    private let logger: Logger
    private var sessions: [String: Session] = [:]

    public init(
        limits: MCPSessionLimits, directory: MCPServerDirectory, toolbox: MCPToolbox, allowedOrigins: [String],
        logger: Logger
    ) {
        self.limits = limits
        self.directory = directory
        self.factory = MCPSessionServer(directory: directory, toolbox: toolbox, logger: logger)
        self.validation = StandardValidationPipeline(validators: [
            OriginAllowList(origins: allowedOrigins), AcceptHeaderValidator(mode: .sseRequired),
            ContentTypeValidator(), ProtocolVersionValidator(), SessionValidator(),
        ])
        // The SDK's transport logs every session's start and end at `info`: keep only its warnings.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        self.logger = quiet
    }

    /// How many sessions are open.
    public var count: Int { sessions.count }

    /// Answers one HTTP request to the MCP server `entry` (already authorized).
    public func handle(_ request: MCP.HTTPRequest, entry: MCPServerDirectory.Entry) async -> MCP.HTTPResponse {
        let now = ContinuousClock.now
        if let id = request.header(HTTPHeaderName.sessionID) {
            guard var session = sessions[id], session.mcpServerID == entry.server.id else {
                return .error(statusCode: 404, .invalidRequest("Not Found: no such session (start a new one)"))
            }
            // A session past its request limit ends here rather than after its last answer, whose event stream
            // is still being written when the transport returns it.
            guard session.requests < limits.maxRequestsPerSession else {
                await close(id)
                return .error(statusCode: 404, .invalidRequest("Not Found: the session reached its request limit"))
            }
            session.lastUsed = now
            session.requests += 1
            sessions[id] = session
            let response = await session.transport.handleRequest(request)
            if request.method == "DELETE" { await close(id) }
            return response
        }
        guard request.method == "POST", let body = request.body,
            (try? JSON(parsing: body))?["method"]?.string == "initialize"
        else {
            if let problem = validation.validate(
                request,
                context: .init(
                    httpMethod: request.method, sessionID: nil, isInitializationRequest: false,
                    supportedProtocolVersions: Version.supported))
            {
                return problem
            }
            return .error(statusCode: 400, .invalidRequest("Bad Request: Mcp-Session-Id header is required"))
        }
        guard sessions.count < limits.maxSessions else {
            return .error(statusCode: 503, .internalError("Service Unavailable: too many MCP sessions"))
        }
        return await open(request, entry: entry, now: now)
    }

    private func open(_ request: MCP.HTTPRequest, entry: MCPServerDirectory.Entry, now: ContinuousClock.Instant)
        async -> MCP.HTTPResponse
    {
        let id = UUID().uuidString.lowercased()
        let transport = StatefulHTTPServerTransport(
            sessionIDGenerator: FixedSessionID(id: id), validationPipeline: validation, logger: logger)
        let server = await factory.make(entry.server.id, entry: entry)
        do {
            try await server.start(transport: transport)
        } catch {
            await transport.disconnect()
            return .error(statusCode: 500, .internalError("the session could not start"))
        }
        sessions[id] = Session(
            mcpServerID: entry.server.id, server: server, transport: transport, lastUsed: now, requests: 1)
        let response = await transport.handleRequest(request)
        if case .error = response { await close(id) }
        return response
    }

    /// Ends a session: its streams close and its next request gets 404.
    private func close(_ id: String) async {
        guard let session = sessions.removeValue(forKey: id) else { return }
        await session.server.stop()
    }

    /// Ends the sessions idle for longer than the limit; returns how many.
    @discardableResult
    public func expire(now: ContinuousClock.Instant = .now) async -> Int {
        let idle = sessions.filter { $0.value.lastUsed.duration(to: now) > limits.idleTimeout }.keys
        for id in idle { await close(id) }
        return idle.count
    }

    /// Tells the sessions whose tools a configuration change touched: `notifications/tools/list_changed`, or
    /// the end of the session for a server that was deleted.
    public func configurationChanged(_ subject: ConfigNotifications.Subject) async {
        let servers = Set(sessions.values.map(\.mcpServerID))
        for serverID in servers {
            let entry = try? await directory.entry(serverID)
            let touched: Bool
            switch subject {
            case .mcpServer(let id): touched = id == serverID
            case .cycle(let id): touched = entry?.server.cycleIDs.contains(id) ?? false
            case .webhook: touched = false
            }
            guard touched else { continue }
            for (id, session) in sessions where session.mcpServerID == serverID {
                if entry == nil {
                    await close(id)
                } else {
                    try? await session.server.notify(ToolListChangedNotification.message())
                }
            }
        }
    }

    /// Ends every session (shutdown).
    public func closeAll() async {
        for id in Array(sessions.keys) { await close(id) }
    }
}

/// The session id chosen by ``MCPSessions``, handed to the SDK's transport.
private struct FixedSessionID: SessionIDGenerator {
    let id: String
    func generateSessionID() -> String { id }
}
