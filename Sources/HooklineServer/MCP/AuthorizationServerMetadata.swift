/// RFC 8414 authorization-server metadata: the token endpoint and the one grant Hookline issues tokens for
/// (client credentials, with the secret in HTTP Basic or in the form), as MCP's client-credentials extension
/// discovers them.
struct AuthorizationServerMetadata: Encodable {
    var issuer: String
    var tokenEndpoint: String
    /// Not used by any grant Hookline supports (RFC 8414 lets it be left out); given because the official
    /// Python MCP SDK's metadata model requires it. It refuses every request.
    var authorizationEndpoint: String
    var grantTypesSupported = ["client_credentials"]
    var tokenEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post"]
    var scopesSupported = ["webhook", "mcp", "api"]
    var responseTypesSupported: [String] = []
    var revocationEndpoint: String

    init(issuer: String) {
        self.issuer = issuer
        self.tokenEndpoint = issuer + "/oauth/token"
        self.authorizationEndpoint = issuer + "/oauth/authorize"
        self.revocationEndpoint = issuer + "/oauth/revoke"
    }

    enum CodingKeys: String, CodingKey {
        case issuer
        case tokenEndpoint = "token_endpoint"
        case authorizationEndpoint = "authorization_endpoint"
        case grantTypesSupported = "grant_types_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case scopesSupported = "scopes_supported"
        case responseTypesSupported = "response_types_supported"
        case revocationEndpoint = "revocation_endpoint"
    }
}
