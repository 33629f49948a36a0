import Hookline
import HooklineAPIGenerated

extension AdminAPI {
    package func listMCPServers(_ input: Operations.ListMCPServers.Input) async throws
        -> Operations.ListMCPServers.Output
    {
        let account = try parameter(input.query.accountId, "account_id")
        let list = try await mcpServers.list(account: account).map(Components.Schemas.MCPServer.init)
        return .ok(.init(body: .json(.init(items: list))))
    }

    package func createMCPServer(_ input: Operations.CreateMCPServer.Input) async throws
        -> Operations.CreateMCPServer.Output
    {
        guard case .json(let body) = input.body else { throw Problem(.badRequest) }
        let account = try field(body.accountId, at: "/account_id")
        let cycles = try body.cycleIds.enumerated().map { try field($1, at: "/cycle_ids/\($0)") }
        let server = try await mcpServers.create(
            account: account, name: body.name, description: body.description ?? "",
            auth: body.auth.flatMap { MCPServerAuth(rawValue: $0.rawValue) } ?? .bearer, cycles: cycles)
        return .created(.init(body: .json(.init(server))))
    }

    package func getMCPServer(_ input: Operations.GetMCPServer.Input) async throws -> Operations.GetMCPServer.Output {
        let id = try parameter(input.path.serverId, "server_id")
        guard let server = try await mcpServers.find(id) else { throw Problem(.notFound, "no such MCP server") }
        return .ok(.init(body: .json(.init(server))))
    }

    package func updateMCPServer(_ input: Operations.UpdateMCPServer.Input) async throws
        -> Operations.UpdateMCPServer.Output
    {
        let id = try parameter(input.path.serverId, "server_id")
        guard case .json(let body) = input.body else { throw Problem(.badRequest) }
        let cycles = try body.cycleIds.map { ids in
            try ids.enumerated().map { try field($1, at: "/cycle_ids/\($0)") }
        }
        let server = try await mcpServers.update(
            id, name: body.name, description: body.description,
            auth: body.auth.flatMap { MCPServerAuth(rawValue: $0.rawValue) }, cycles: cycles)
        return .ok(.init(body: .json(.init(server))))
    }

    package func deleteMCPServer(_ input: Operations.DeleteMCPServer.Input) async throws
        -> Operations.DeleteMCPServer.Output
    {
        try await mcpServers.delete(try parameter(input.path.serverId, "server_id"))
        return .noContent(.init())
    }
}

extension Components.Schemas.MCPServer {
    init(_ server: MCPServer) {
        self.init(
            id: server.id.lowercased, url: server.urlPath, accountId: server.accountID.lowercased, name: server.name,
            description: server.description, auth: .init(rawValue: server.auth.rawValue) ?? .bearer,
            cycleIds: server.cycleIDs.map(\.lowercased), createdAt: server.createdAt, updatedAt: server.updatedAt)
    }
}
