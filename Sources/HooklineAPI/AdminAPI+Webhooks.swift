import Hookline
import HooklineAPIGenerated

extension AdminAPI {
    package func listWebhooks(_ input: Operations.ListWebhooks.Input) async throws -> Operations.ListWebhooks.Output {
        let account = try parameter(input.query.accountId, "account_id")
        let list = try await webhooks.list(account: account).map(Components.Schemas.Webhook.init)
        return .ok(.init(body: .json(.init(items: list))))
    }

    package func createWebhook(_ input: Operations.CreateWebhook.Input) async throws
        -> Operations.CreateWebhook.Output
    {
        guard case .json(let body) = input.body else { throw Problem(.badRequest) }
        let account = try field(body.accountId, at: "/account_id")
        let cycle = try field(body.cycleId, at: "/cycle_id")
        guard let scheme = WebhookAuthScheme(rawValue: body.auth.rawValue) else {
            throw Problem.invalid("/auth", "unknown scheme")
        }
        let settings = WebhookAuthSettings(
            secret: body.secret, header: body.header, algorithm: body.algorithm?.rawValue,
            encoding: body.encoding?.rawValue)
        let created = try await webhooks.create(
            account: account, cycle: cycle, scheme: scheme, settings: settings, allowIPs: body.allowIps ?? [])
        return .created(.init(body: .json(.init(webhook: .init(created.webhook), secret: created.secret))))
    }

    package func getWebhook(_ input: Operations.GetWebhook.Input) async throws -> Operations.GetWebhook.Output {
        let id = try parameter(input.path.webhookId, "webhook_id")
        guard let webhook = try await webhooks.find(id) else { throw Problem(.notFound, "no such webhook") }
        return .ok(.init(body: .json(.init(webhook))))
    }

    package func deleteWebhook(_ input: Operations.DeleteWebhook.Input) async throws
        -> Operations.DeleteWebhook.Output
    {
        try await webhooks.delete(try parameter(input.path.webhookId, "webhook_id"))
        return .noContent(.init())
    }

    package func rotateWebhookSecret(_ input: Operations.RotateWebhookSecret.Input) async throws
        -> Operations.RotateWebhookSecret.Output
    {
        let id = try parameter(input.path.webhookId, "webhook_id")
        var grace = 86_400
        if case .json(let body)? = input.body, let seconds = body.graceSeconds { grace = seconds }
        let rotated = try await webhooks.rotateSecret(id, grace: grace)
        return .ok(.init(body: .json(.init(webhook: .init(rotated.webhook), secret: rotated.secret ?? ""))))
    }
}

extension Components.Schemas.Webhook {
    init(_ webhook: Webhook) {
        self.init(
            id: webhook.id.lowercased, url: webhook.urlPath, accountId: webhook.accountID.lowercased,
            cycleId: webhook.cycleID.lowercased,
            auth: Components.Schemas.WebhookAuth(rawValue: webhook.scheme.rawValue) ?? .none,
            header: webhook.settings.header, algorithm: webhook.settings.algorithm,
            encoding: webhook.settings.encoding, allowIps: webhook.allowIPs.map(\.description),
            previousSecretExpiresAt: webhook.previousSecretExpiresAt, createdAt: webhook.createdAt)
    }
}
