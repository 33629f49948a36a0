import Foundation
import HTTPTypes
import Hookline
import HooklineMCP
import Hummingbird
import MCP
import ServiceLifecycle

/// `/mcp/{id}`: an account's MCP server over MCP's Streamable HTTP transport (POST a JSON-RPC message, GET the
/// server's event stream, DELETE to end the session), and the OAuth metadata through which MCP clients find
/// out how to get a token.
///
/// Checks in order: 404 for an unknown or deleted server; for a `bearer` server, 401 with the RFC 9728
/// challenge (`resource_metadata`) unless a live token of an `mcp` client of the server's own account came;
/// 413 for a body over `--max-body-bytes`; 503 with `Retry-After` while the bodies held at once are at
/// `--max-buffered-bytes` (shared with webhook deliveries); then the transport's own checks (403 for a browser `Origin` not
/// allowed, 406, 415, 400 for an unsupported protocol version or a missing session, 404 for an unknown one).
struct MCPRoutes: Sendable {
    let directory: MCPServerDirectory
    let sessions: MCPSessions
    let verifier: TokenVerifier
    let bodyBudget: BodyBudget
    let settings: ServerSettings

    func register(on router: Router<HooklineRequestContext>) {
        let mcp = router.group("/mcp").add(middleware: MCPCORSMiddleware(origins: settings.mcpAllowedOrigins))
        for method in [HTTPRequest.Method.post, .get, .delete] {
            mcp.on("{id}", method: method) { request, context in try await serve(request, context) }
        }
        // A preflight from an allowed origin is answered by the middleware; any other, plainly.
        mcp.on("{id}", method: .options) { _, _ in
            Response(status: .noContent, headers: [.allow: "GET, POST, DELETE, OPTIONS"])
        }
        router.get("/.well-known/oauth-protected-resource/mcp/{id}") { request, context in
            let entry = try await entry(context)
            let base = baseURL(request)
            return JSONResponse.make(
                ProtectedResourceMetadata(
                    resource: base + entry.server.urlPath, authorizationServers: [base],
                    resourceName: entry.server.name),
                status: .ok, headers: .noStore)
        }
        router.get("/.well-known/oauth-authorization-server") { request, _ in
            JSONResponse.make(AuthorizationServerMetadata(issuer: baseURL(request)), status: .ok, headers: .noStore)
        }
    }

    private func serve(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let entry = try await entry(context)
        if entry.server.auth == .bearer {
            let verdict: TokenVerifier.Verdict
            do {
                verdict = try await verifier.verify(
                    authorization: request.headers[.authorization], scope: .mcp, account: entry.server.accountID)
            } catch {
                return Self.unavailable
            }
            try BearerChallenge.check(
                verdict,
                resourceMetadata: baseURL(request) + "/.well-known/oauth-protected-resource" + entry.server.urlPath,
                scope: .mcp)
        }
        // The message's bytes count against the server's body budget until the session has taken it.
        return try await bodyBudget.holding(
            request, maxBytes: settings.maxBodyBytes, tooLarge: Self.tooLarge, busy: Self.busy
        ) { body in
            try await handle(request, body: body, entry: entry)
        }
    }

    private func handle(_ request: Request, body: ByteBuffer, entry: MCPServerDirectory.Entry) async throws
        -> Response
    {
        let message = MCP.HTTPRequest(
            method: request.method.rawValue, headers: Self.headers(request.headers),
            body: body.readableBytes > 0 ? Data(buffer: body) : nil, path: request.uri.path)
        // The SDK looks header names up in any case; the dictionary's keys are lower-case.
        let sessionID = message.header(HTTPHeaderName.sessionID)
        // Whether this is an `initialize` is found out here, outside the sessions' actor, since only a request
        // without a session id needs its body parsed for it.
        let initialize =
            sessionID == nil && request.method == .post
            && (try? JSON(parsing: body.readableBytesView))?["method"]?.string == "initialize"
        let (answer, replays) = await sessions.handle(message, entry: entry, initialize: initialize)
        let session = answer.headers[HTTPHeaderName.sessionID] ?? sessionID
        return Self.response(answer, of: session.map { (sessions, $0) }, replays: replays)
    }

    /// The id of an event of the session's standalone (GET) stream, which the SDK's transport names
    /// `_GET_stream_<n>` (an answer's stream has the request's id in its place).
    static func standaloneEventID(_ event: ByteBuffer) -> String? {
        let prefix = "id: _GET_stream_".utf8
        let bytes = event.readableBytesView
        guard bytes.starts(with: prefix), let end = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return String(decoding: bytes[(bytes.startIndex + 4)..<end], as: UTF8.self)
    }

    static let tooLarge = MCPRefusal(
        answer: .error(statusCode: 413, .invalidRequest("the body is larger than the server takes")))
    static let busy = MCPRefusal(
        answer: .error(
            statusCode: 503, .internalError("Service Unavailable: too many requests are being received at once; retry"),
            extraHeaders: ["Retry-After": "1"]))

    /// The server the path names. Its refusals are JSON-RPC error bodies, which MCP clients read.
    private func entry(_ context: HooklineRequestContext) async throws -> MCPServerDirectory.Entry {
        let notFound = MCPRefusal(answer: .error(statusCode: 404, .invalidRequest("Not Found: no such MCP server")))
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw notFound }
        let entry: MCPServerDirectory.Entry?
        do {
            entry = try await directory.entry(id)
        } catch {
            throw MCPRefusal(answer: Self.unavailableAnswer)
        }
        guard let entry else { throw notFound }
        return entry
    }

    static let unavailableAnswer = MCP.HTTPResponse.error(
        statusCode: 503, .internalError("Service Unavailable: the database is unavailable; try again"),
        extraHeaders: ["Retry-After": "1"])
    static var unavailable: Response { response(unavailableAnswer) }

    /// The URL clients reach this instance by: `--public-url`, else `http://` and the request's `Host` when it
    /// is a plain host name or address with a port (nothing that could break out of a quoted header value),
    /// else the listening address.
    private func baseURL(_ request: Request) -> String {
        if let url = settings.publicURL { return url }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        if let authority = request.head.authority, !authority.isEmpty, authority.count <= 255,
            authority.allSatisfy(allowed.contains)
        {
            return "http://" + authority
        }
        return "http://\(settings.host):\(settings.port)"
    }

    /// The SDK's header dictionary: repeated fields joined with commas, as HTTP allows.
    static func headers(_ fields: HTTPFields) -> [String: String] {
        var headers: [String: String] = [:]
        for field in fields {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        return headers
    }

    /// The SDK's answer as a Hummingbird response. An event stream is written as it comes; when it belongs to
    /// a session, the session can end it (``MCPSessions/opened(stream:in:)``). Its bytes were counted as the
    /// session's server sent them (``MeteredTransport``), except a resumption's (`Last-Event-ID`), whose
    /// events the transport replays from its store (`replays`): the session is charged those, up to the priming
    /// event that ends the replay (all of them for a protocol version before 2025-03-26, which has none), and a
    /// stream past the session's budget ends.
    static func response(
        _ answer: MCP.HTTPResponse, of session: (MCPSessions, String)? = nil, replays: Bool = false
    ) -> Response {
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        let status = HTTPResponse.Status(code: answer.statusCode)
        switch answer {
        case .stream(let events, _):
            // A session's event stream (GET) lasts as long as the session: it ends when graceful shutdown
            // begins, or the server would wait for it (up to the idle timeout) before it stops.
            return Response(
                status: status, headers: fields,
                body: ResponseBody { writer in
                    // The SDK's stream is relayed through one that graceful shutdown, and the session's end,
                    // can end; a client that went away (a failed write) ends it too.
                    let relay = EventRelay()
                    var number: UInt64?
                    if let (sessions, id) = session {
                        number = await sessions.opened(stream: { relay.end() }, in: id)
                    }
                    let stream = number
                    let pump = Task {
                        // A resumption's replay ends with its priming event (empty data), after which the
                        // stream's events are new ones, counted when the server sent them.
                        var replaying = replays
                        for try await event in events {
                            if replaying, let (sessions, id) = session {
                                guard await sessions.charge(event.count, in: id) else { break }
                                replaying = !event.suffix(8).elementsEqual("data: \n\n".utf8)
                            }
                            relay.yield(ByteBuffer(bytes: event))
                        }
                        relay.finish()
                    }
                    await withGracefulShutdownHandler {
                        for await chunk in relay.chunks {
                            if relay.isEnded { break }
                            do { try await writer.write(chunk) } catch { break }
                            if let (sessions, id) = session, let stream, let event = Self.standaloneEventID(chunk) {
                                await sessions.wrote(standaloneEvent: event, on: stream, in: id)
                            }
                        }
                    } onGracefulShutdown: {
                        relay.end()
                    }
                    pump.cancel()
                    if let (sessions, id) = session, let number { await sessions.closed(stream: number, in: id) }
                    try await writer.finish(nil)
                })
        default:
            return Response(
                status: status, headers: fields,
                body: answer.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody())
        }
    }
}
