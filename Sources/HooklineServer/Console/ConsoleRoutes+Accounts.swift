import Foundation
import Hookline
import Hummingbird

/// `/console/accounts…`: accounts with their cycles, webhooks, OAuth clients and MCP servers.
extension ConsoleRoutes {
    struct AccountsView {
        struct Row {
            var id: String
            var name: String
            var created: String
        }
        var csrf: String
        var accounts: [Row]
        var navAccounts = true
    }

    struct AccountView {
        struct CycleRow {
            var id: String
            var name: String
            var version: Int
            var active: Bool
        }
        struct WebhookRow {
            var id: String
            var url: String
            var scheme: String
            var cycle: String
            var recent: [ConsoleJobRow]
        }
        struct ClientRow {
            var clientID: String
            var scope: String
            var description: String
            var lifetime: String
            var revoked: String?
        }
        struct ServerRow {
            var id: String
            var name: String
            var url: String
            var auth: String
            var tools: Int
        }
        var csrf: String
        var notice: String?
        var id: String
        var name: String
        var cycles: [CycleRow]
        var webhooks: [WebhookRow]
        var clients: [ClientRow]
        var servers: [ServerRow]
        var navAccounts = true
    }

    struct ClientCreatedView {
        var csrf: String
        var account: String
        var accountName: String
        var clientID: String
        var clientSecret: String
        var scope: String
        var navAccounts = true
    }

    func registerAccounts(on pages: RouterGroup<HooklineRequestContext>) {
        pages.get("accounts") { _, context in
            let rows = try await AccountStore(database: database).list().map {
                AccountsView.Row(id: $0.id.lowercased, name: $0.name, created: ConsoleFormat.time($0.createdAt))
            }
            return renderer.page("accounts", AccountsView(csrf: context.consoleSession?.csrf ?? "", accounts: rows))
        }
        pages.get("accounts/:id") { request, context in try await account(request, context) }
        pages.post("accounts/:id/clients") { request, context in try await createClient(request, context) }
        pages.post("clients/:clientID/revoke") { _, context in
            guard let clientID = context.parameters.get("clientID") else {
                throw ConsolePageError.notFound("No such client.")
            }
            let client = try await clients.revoke(clientID: clientID)
            let back = client.accountID.map { "/console/accounts/\($0.lowercased)" } ?? "/console/accounts"
            return Self.seeOther(ConsoleNotice.revoked.redirect(to: back))
        }
        for (action, active) in [("activate", true), ("stop", false)] {
            pages.post("cycles/:id/\(action)") { _, context in
                let cycle = try await CycleStore(database: database).setActive(try Self.uuid(context), active)
                return Self.seeOther(
                    (active ? ConsoleNotice.activated : .stopped).redirect(
                        to: "/console/accounts/\(cycle.accountID.lowercased)"))
            }
        }
    }

    func account(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let id = try Self.uuid(context)
        guard let account = try await AccountStore(database: database).find(id) else {
            throw ConsolePageError.notFound("No account \(id.lowercased).")
        }
        let cycles = try await CycleStore(database: database).list(account: id)
        let cycleNames = Dictionary(cycles.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let names = [account.id: account.name]
        let jobs = JobStore(database: database)
        var webhooks: [AccountView.WebhookRow] = []
        for webhook in try await WebhookStore(database: database).list(account: id) {
            // The last day's: bounded by history's partition key, however long history is.
            let recent = try await jobs.list(
                webhook: webhook.id, finishedSince: Date().addingTimeInterval(-86_400), limit: 5)
            webhooks.append(
                .init(
                    id: webhook.id.lowercased, url: webhook.urlPath, scheme: webhook.scheme.rawValue,
                    cycle: cycleNames[webhook.cycleID] ?? webhook.cycleID.lowercased,
                    recent: recent.map { ConsoleJobRow($0, accountNames: names) }))
        }
        let clientRows = try await clients.list(account: id).map { client in
            AccountView.ClientRow(
                clientID: client.clientID, scope: client.scope.rawValue, description: client.description,
                lifetime: ConsoleFormat.seconds(Double(client.tokenLifetimeSeconds)),
                revoked: client.revokedAt.map(ConsoleFormat.time))
        }
        let servers = try await MCPServerStore(database: database).list(account: id).map { server in
            AccountView.ServerRow(
                id: server.id.lowercased, name: server.name, url: server.urlPath, auth: server.auth.rawValue,
                tools: server.cycleIDs.count)
        }
        let view = AccountView(
            csrf: context.consoleSession?.csrf ?? "",
            notice: ConsoleNotice.text(
                done: request.uri.queryParameters.get("done"),
                count: request.uri.queryParameters.get("n")),
            id: account.id.lowercased, name: account.name,
            cycles: cycles.map { .init(id: $0.id.lowercased, name: $0.name, version: $0.version, active: $0.active) },
            webhooks: webhooks, clients: clientRows, servers: servers)
        return renderer.page("account", view)
    }

    func createClient(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let id = try Self.uuid(context)
        var request = request
        let form = try await ConsoleForm.read(&request, maxBytes: maxFormBytes)
        guard let scope = form["scope"].flatMap(OAuthScope.init(rawValue:)), scope.isAccountLevel else {
            throw HooklineError.invalidField("scope", "webhook or mcp")
        }
        var minutes: Int?
        if let text = form["token_lifetime_minutes"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let value = Int(text) else {
                throw HooklineError.invalidField("token lifetime", "a number of minutes")
            }
            minutes = value
        }
        guard let account = try await AccountStore(database: database).find(id) else {
            throw ConsolePageError.notFound("No account \(id.lowercased).")
        }
        let created = try await clients.create(
            account: id, scope: scope, expiresMinutes: minutes, description: form["description"] ?? "")
        return renderer.page(
            "client_created",
            ClientCreatedView(
                csrf: context.consoleSession?.csrf ?? "", account: id.lowercased, accountName: account.name,
                clientID: created.client.clientID, clientSecret: created.clientSecret, scope: scope.rawValue))
    }
}
