import HTTPTypes
import Hummingbird

/// Cross-origin access to MCP servers for the browser origins allowed to call them (`--mcp-allowed-origin`):
/// the preflight `OPTIONS` is answered for them, and every answer to them says they may read it and its
/// `Mcp-Session-Id`. Without these headers a browser refuses to send a JSON POST from another origin at all,
/// so the allow-list admitted no browser. Other origins get none of them; the transport's own check answers
/// their requests 403 (``OriginAllowList``).
struct MCPCORSMiddleware: RouterMiddleware {
    let origins: Set<String>

    init(origins: [String]) { self.origins = Set(origins.map { $0.lowercased() }) }

    /// The request headers an MCP client sends, and the methods of Streamable HTTP.
    static let allowedHeaders =
        "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID"
    static let allowedMethods = "GET, POST, DELETE"

    func handle(_ request: Request, context: HooklineRequestContext, next: NextResponder) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin.lowercased()) else {
            return try await next(request, context)
        }
        if request.method == .options {
            var headers = HTTPFields()
            headers[.accessControlAllowMethods] = Self.allowedMethods
            headers[.accessControlAllowHeaders] = Self.allowedHeaders
            headers[.accessControlMaxAge] = "600"
            return Self.allowing(origin, Response(status: .noContent, headers: headers))
        }
        do {
            return Self.allowing(origin, try await next(request, context))
        } catch let error as HTTPResponseError {
            return Self.allowing(origin, try error.response(from: request, context: context))
        }
    }

    private static func allowing(_ origin: String, _ response: Response) -> Response {
        var response = response
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "Mcp-Session-Id, WWW-Authenticate"
        response.headers[.vary] = "Origin"
        return response
    }
}
