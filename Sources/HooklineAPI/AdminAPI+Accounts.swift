import Hookline
import HooklineAPIGenerated

extension AdminAPI {
    package func listAccounts(_ input: Operations.ListAccounts.Input) async throws -> Operations.ListAccounts.Output {
        .ok(.init(body: .json(.init(items: try await accounts.list().map(Components.Schemas.Account.init)))))
    }

    package func createAccount(_ input: Operations.CreateAccount.Input) async throws
        -> Operations.CreateAccount.Output
    {
        guard case .json(let body) = input.body else { throw Problem(.badRequest) }
        let account = try await accounts.create(name: body.name)
        return .created(.init(body: .json(.init(account))))
    }

    package func getAccount(_ input: Operations.GetAccount.Input) async throws -> Operations.GetAccount.Output {
        let id = try parameter(input.path.accountId, "account_id")
        guard let account = try await accounts.find(id) else { throw Problem(.notFound, "no such account") }
        return .ok(.init(body: .json(.init(account))))
    }
}

extension Components.Schemas.Account {
    init(_ account: Account) {
        self.init(id: account.id.lowercased, name: account.name, createdAt: account.createdAt)
    }
}
