import MCP

/// The transport specification's defence against DNS rebinding: a request that carries an `Origin` (a
/// browser's) is refused with 403 unless that origin is allowed (`--mcp-allowed-origin`). Clients that are
/// not browsers send none and pass. `Host` is not checked: Hookline serves the internet under any name.
struct OriginAllowList: HTTPRequestValidator {
    let origins: Set<String>

    init(origins: [String]) { self.origins = Set(origins.map { $0.lowercased() }) }

    func validate(_ request: MCP.HTTPRequest, context: HTTPValidationContext) -> MCP.HTTPResponse? {
        guard let origin = request.header(HTTPHeaderName.origin), !origins.contains(origin.lowercased()) else {
            return nil
        }
        return .error(
            statusCode: 403, .invalidRequest("Forbidden: Origin \(origin) is not allowed"),
            sessionID: context.sessionID)
    }
}
