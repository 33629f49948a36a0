import HTTPTypes
import Hummingbird
import MCP

/// A refusal of an `/mcp/{id}` request before the session sees it (no such server, a database that is away),
/// answered with a JSON-RPC error body as MCP clients expect.
struct MCPRefusal: HTTPResponseError {
    let answer: MCP.HTTPResponse

    var status: HTTPResponse.Status { HTTPResponse.Status(code: answer.statusCode) }

    func response(from request: Request, context: some Hummingbird.RequestContext) -> Response {
        MCPRoutes.response(answer)
    }
}
