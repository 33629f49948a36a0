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
        let accountID: UUID
        let server: Server
        let transport: StatefulHTTPServerTransport
        var lastUsed: ContinuousClock.Instant
        /// Bytes exchanged so far, against ``MCPSessionLimits/maxBytesPerSession``.
        var bytes: Int
        /// The event streams being written for the session, each with what ends it, by the number it was
        /// given when it opened (``opened(stream:in:)``): the lowest is the oldest.
        var streams: [UInt64: @Sendable () -> Void] = [:]
        /// The last event written on the session's standalone (GET) stream, and that stream's number while it
        /// is open: a plain GET resumes from it (``takeOverStandaloneStream(in:)``).
        var standaloneEvent: String?
        var standaloneStream: UInt64?
    }

    private let limits: MCPSessionLimits
    private let directory: MCPServerDirectory
    private let factory: MCPSessionServer
    private let validation: any HTTPRequestValidationPipeline
    private let logger: Logger
    private var sessions: [String: Session] = [:]
    /// Sessions being opened (between the limit's check and their entry in `sessions`), by server, and by
    /// account.
    private var opening: [UUID: Int] = [:]
    private var openingOfAccount: [UUID: Int] = [:]
    /// The number the next event stream gets.
    private var nextStream: UInt64 = 0

    public init(
        limits: MCPSessionLimits, directory: MCPServerDirectory, toolbox: MCPToolbox, allowedOrigins: [String],
        logger: Logger
    ) {
        // No cycle of a server may be named as a job tool: the stores check ``MCPTool/jobToolNames``.
        assert(Set(JobTools.allCases.map(\.rawValue)) == MCPTool.jobToolNames)
        self.limits = limits
        self.directory = directory
        self.factory = MCPSessionServer(
            directory: directory, toolbox: toolbox, logger: logger, maxResultBytes: limits.maxResultBytes,
            maxCallsAtOnce: limits.maxCallsPerSession)
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

    /// Answers one HTTP request to the MCP server `entry` (already authorized). `initialize` says whether its
    /// body is an `initialize` request, found out before the request reaches this actor. `replays`: the answer
    /// is a resumed event stream (`Last-Event-ID`, or a plain GET that took the session's stream over), whose
    /// first events the transport replays from its store.
    public func handle(_ request: MCP.HTTPRequest, entry: MCPServerDirectory.Entry, initialize: Bool) async
        -> (answer: MCP.HTTPResponse, replays: Bool)
    {
        var (request, replays) = (request, false)
        if request.method == "GET", let id = request.header(HTTPHeaderName.sessionID),
            let stream = streamRequest(request, of: id, entry: entry)
        {
            (request, replays) = stream
        }
        return (await answer(request, entry: entry, initialize: initialize), replays)
    }

    /// A GET of session `id` as the transport is to see it: a plain one (no `Last-Event-ID`) takes the
    /// session's standalone stream over (``takeOverStandaloneStream(in:)``) once it is known to be the server's
    /// session and the request passes the transport's checks, so that a GET that would be refused ends
    /// nothing. Nil when the request goes as it is.
    private func streamRequest(_ request: MCP.HTTPRequest, of id: String, entry: MCPServerDirectory.Entry)
        -> (MCP.HTTPRequest, replays: Bool)?
    {
        if request.header(HTTPHeaderName.lastEventID) != nil { return (request, true) }
        guard let session = sessions[id], session.mcpServerID == entry.server.id, session.standaloneEvent != nil,
            validation.validate(
                request,
                context: .init(
                    httpMethod: "GET", sessionID: id, isInitializationRequest: false,
                    supportedProtocolVersions: Version.supported)) == nil,
            let resume = takeOverStandaloneStream(in: id)
        else { return nil }
        var headers = request.headers
        headers[HTTPHeaderName.lastEventID.lowercased()] = resume
        return (MCP.HTTPRequest(method: request.method, headers: headers, body: request.body, path: request.path), true)
    }

    private func answer(_ request: MCP.HTTPRequest, entry: MCPServerDirectory.Entry, initialize: Bool) async
        -> MCP.HTTPResponse
    {
        let now = ContinuousClock.now
        let size = (request.body?.count ?? 0) + MCPSessionLimits.messageOverhead
        if let id = request.header(HTTPHeaderName.sessionID) {
            guard var session = sessions[id], session.mcpServerID == entry.server.id else {
                return .error(statusCode: 404, .invalidRequest("Not Found: no such session (start a new one)"))
            }
            // A session past its budget ends here, at its next request, rather than while its last answer's
            // event stream is still being written.
            guard session.bytes + size <= limits.maxBytesPerSession else {
                await close(id)
                return .error(statusCode: 404, .invalidRequest("Not Found: the session used its byte budget"))
            }
            session.lastUsed = now
            session.bytes += size
            sessions[id] = session
            let response = await session.transport.handleRequest(request)
            if request.method == "DELETE", response.statusCode == 200 { await close(id) }
            return response
        }
        guard request.method == "POST", initialize else {
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
        let (server, account) = (entry.server.id, entry.server.accountID)
        let ofServer = sessions.values.count { $0.mcpServerID == server } + opening[server, default: 0]
        let ofAccount = sessions.values.count { $0.accountID == account } + openingOfAccount[account, default: 0]
        guard sessions.count + opening.values.reduce(0, +) < limits.maxSessions,
            ofServer < limits.maxSessionsPerServer, ofAccount < limits.maxSessionsPerAccount
        else {
            return .error(statusCode: 503, .internalError("Service Unavailable: too many MCP sessions"))
        }
        // The slot is taken before the first suspension, so concurrent initializes cannot overshoot the limits.
        opening[server, default: 0] += 1
        openingOfAccount[account, default: 0] += 1
        defer {
            Self.release(&opening, server)
            Self.release(&openingOfAccount, account)
        }
        return await open(request, entry: entry, now: now, size: size)
    }

    /// One fewer session being opened under `key`; an emptied key goes, or the maps would keep every server
    /// and account ever seen.
    private static func release(_ counts: inout [UUID: Int], _ key: UUID) {
        if let count = counts[key], count > 1 { counts[key] = count - 1 } else { counts[key] = nil }
    }

    /// Charges a message the server of session `id` sends (``MeteredTransport``): true while the session's
    /// budget was not spent before it (the message that crosses it goes, and the session ends at its next
    /// request); false once it was, or when the session is gone, and then the session ends at once, since
    /// answers it owes are no longer sent.
    public func charge(_ bytes: Int, in id: String) -> Bool {
        guard var session = sessions[id] else { return false }
        guard session.bytes <= limits.maxBytesPerSession else {
            Task { await close(id) }
            return false
        }
        session.bytes += bytes
        sessions[id] = session
        return true
    }

    /// An event stream of session `id` begins to be written; `end` ends it. The session's end ends it, and so
    /// does a stream opened past ``MCPSessionLimits/maxStreamsPerSession`` (the oldest goes). Nil, with the
    /// stream ended at once, when the session is gone.
    public func opened(stream end: @escaping @Sendable () -> Void, in id: String) -> UInt64? {
        guard var session = sessions[id] else {
            end()
            return nil
        }
        nextStream += 1
        session.streams[nextStream] = end
        while session.streams.count > limits.maxStreamsPerSession, let oldest = session.streams.keys.min() {
            session.streams.removeValue(forKey: oldest)?()
        }
        sessions[id] = session
        return nextStream
    }

    /// The event stream `number` of session `id` was written to its end.
    public func closed(stream number: UInt64, in id: String) {
        sessions[id]?.streams[number] = nil
        if sessions[id]?.standaloneStream == number { sessions[id]?.standaloneStream = nil }
    }

    /// The event `eventID` of the session's standalone stream was written on the stream `number`.
    public func wrote(standaloneEvent eventID: String, on number: UInt64, in id: String) {
        guard sessions[id]?.streams[number] != nil else { return }
        sessions[id]?.standaloneEvent = eventID
        sessions[id]?.standaloneStream = number
    }

    /// A plain GET (no `Last-Event-ID`) of session `id` takes its standalone stream over: the stream before
    /// ends, and the new one resumes after the last event it wrote (returned; nil for the session's first).
    ///
    /// The SDK's transport holds the first GET stream as live until the session ends, however it ended, and
    /// answers any later plain GET 409, which Streamable HTTP does not allow (a GET gets a stream or 405).
    /// A stream that a proxy cut while idle is not seen to end until an event fails to be written, so the
    /// newest GET wins, as a client that opens one means it.
    func takeOverStandaloneStream(in id: String) -> String? {
        guard var session = sessions[id], let last = session.standaloneEvent else { return nil }
        if let number = session.standaloneStream {
            session.streams.removeValue(forKey: number)?()
            session.standaloneStream = nil
        }
        sessions[id] = session
        return last
    }

    private func open(
        _ request: MCP.HTTPRequest, entry: MCPServerDirectory.Entry, now: ContinuousClock.Instant, size: Int
    ) async -> MCP.HTTPResponse {
        let id = UUID().uuidString.lowercased()
        let transport = StatefulHTTPServerTransport(
            sessionIDGenerator: FixedSessionID(id: id), validationPipeline: validation, logger: logger)
        let server = await factory.make(entry.server.id, entry: entry)
        let metered = await MeteredTransport.wrapping(transport) { bytes in await self.charge(bytes, in: id) }
        do {
            try await server.start(transport: metered)
        } catch {
            await transport.disconnect()
            return .error(statusCode: 500, .internalError("the session could not start"))
        }
        sessions[id] = Session(
            mcpServerID: entry.server.id, accountID: entry.server.accountID, server: server, transport: transport,
            lastUsed: now, bytes: size)
        let response = await transport.handleRequest(request)
        if case .error = response { await close(id) }
        return response
    }

    /// Ends a session: its streams close and its next request gets 404.
    private func close(_ id: String) async {
        guard let session = sessions.removeValue(forKey: id) else { return }
        await session.server.stop()
        for end in session.streams.values { end() }
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
            // A look-up that fails (the database is away) says nothing about the server: its sessions stay.
            let entry: MCPServerDirectory.Entry?
            do {
                entry = try await directory.entry(serverID)
            } catch {
                continue
            }
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
