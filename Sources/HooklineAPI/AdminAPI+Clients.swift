import Hookline
import HooklineAPIGenerated

extension AdminAPI {
    package func listClients(_ input: Operations.ListClients.Input) async throws -> Operations.ListClients.Output {
        let account = try parameter(input.query.accountId, "account_id")
        let list = try await clients.list(account: account).map(Components.Schemas.Client.init)
        return .ok(.init(body: .json(.init(items: list))))
    }

    package func createClient(_ input: Operations.CreateClient.Input) async throws -> Operations.CreateClient.Output {
        guard case .json(let body) = input.body else { throw Problem(.badRequest) }
        let account = try body.accountId.map { try field($0, at: "/account_id") }
        guard let scope = OAuthScope(rawValue: body.scope.rawValue) else { throw Problem.invalid("/scope", "unknown") }
        let created = try await clients.create(
            account: account, scope: scope, expiresMinutes: body.tokenLifetimeMinutes,
            description: body.description ?? "")
        return .created(
            .init(body: .json(.init(client: .init(created.client), clientSecret: created.clientSecret))))
    }

    package func getClient(_ input: Operations.GetClient.Input) async throws -> Operations.GetClient.Output {
        guard let client = try await clients.find(clientID: input.path.clientId) else {
            throw Problem(.notFound, "no such client")
        }
        return .ok(.init(body: .json(.init(client))))
    }

    package func revokeClient(_ input: Operations.RevokeClient.Input) async throws -> Operations.RevokeClient.Output {
        .ok(.init(body: .json(.init(try await clients.revoke(clientID: input.path.clientId)))))
    }
}

extension Components.Schemas.Client {
    init(_ client: OAuthClient) {
        self.init(
            clientId: client.clientID, accountId: client.accountID?.lowercased,
            scope: Components.Schemas.Scope(rawValue: client.scope.rawValue) ?? .api, description: client.description,
            tokenLifetimeSeconds: client.tokenLifetimeSeconds, createdAt: client.createdAt, revokedAt: client.revokedAt)
    }
}
