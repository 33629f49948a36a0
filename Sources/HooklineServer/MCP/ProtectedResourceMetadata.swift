/// RFC 9728 protected-resource metadata of an MCP server: which authorization server issues its tokens.
struct ProtectedResourceMetadata: Encodable {
    var resource: String
    var authorizationServers: [String]
    var resourceName: String
    var bearerMethodsSupported = ["header"]
    var scopesSupported = ["mcp"]

    enum CodingKeys: String, CodingKey {
        case resource
        case authorizationServers = "authorization_servers"
        case resourceName = "resource_name"
        case bearerMethodsSupported = "bearer_methods_supported"
        case scopesSupported = "scopes_supported"
    }
}
