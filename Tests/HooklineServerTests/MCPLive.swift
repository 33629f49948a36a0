import AsyncHTTPClient
import Foundation
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

/// A cycle whose tool takes `{sku, quantity}`.
private let reorderDefinition = """
    {"name": "reorder", "description": "Reorders a product.", "steps": [],
     "input_schema": {"type": "object", "required": ["sku"], "additionalProperties": false,
                      "properties": {"sku": {"type": "string"},
                                     "quantity": {"type": "integer", "minimum": 1, "maximum": 10}}}}
    """

/// A live application on a real socket with an MCP server (offering the `reorder` cycle) of a new account.
struct Live: Sendable {
    let fixture: ServerFixture
    let client: any TestClientProtocol
    let http: HTTPClient
    let port: Int
    let account: Account
    let cycle: Cycle
    let server: MCPServer

    /// A client of the server (or of another `/mcp/…` path), without a session yet.
    func mcp(path: String? = nil, token: String? = nil) -> MCPClient {
        MCPClient(http: http, port: port, path: path ?? server.urlPath, token: token)
    }

    /// A plain GET of `path`.
    func get(_ path: String) async throws -> MCPClient.Reply {
        try await MCPClient(http: http, port: port, path: path).send(.GET)
    }

    /// An access token of `client`, from the token endpoint.
    func token(_ created: CreatedOAuthClient) async throws -> String {
        try #require(
            try await client.token(clientID: created.client.clientID, secret: created.clientSecret).accessToken)
    }
}

func live(
    auth: MCPServerAuth = .none, settings configure: (inout ServerSettings) -> Void = { _ in },
    _ body: @Sendable (Live) async throws -> Void
) async throws {
    try await ServerFixture.run { fixture in
        let (account, cycle, server) = try await mcpServer(fixture, auth: auth)
        try await fixture.application(configure).test(.live) { client in
            let port = try #require(client.port)
            try await MCPClient.withHTTP { http in
                try await body(
                    Live(
                        fixture: fixture, client: client, http: http, port: port, account: account, cycle: cycle,
                        server: server))
            }
        }
    }
}

/// A new account with the `reorder` cycle, and an MCP server offering it.
func mcpServer(_ fixture: ServerFixture, auth: MCPServerAuth) async throws -> (Account, Cycle, MCPServer) {
    let account = try await fixture.database.makeAccount()
    let cycle = try await CycleStore(database: fixture.database.client).create(
        account: account.id, definition: Array(reorderDefinition.utf8))
    let server = try await MCPServerStore(database: fixture.database.client).create(
        account: account.id, name: "shop", auth: auth, cycles: [cycle.id])
    return (account, cycle, server)
}
