import ArgumentParser
import Foundation
import Hookline

extension HooklineCLI {
    /// `hookline webhooks create|list|rotate-secret|delete`.
    struct Webhooks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage webhook endpoints.",
            subcommands: [Create.self, List.self, RotateSecret.self, Delete.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a webhook; a generated signing secret is printed this once.")
            @OptionGroup var options: ResourceOptions
            @Option(help: "The owning account.") var account: UUID
            @Option(help: "The account's cycle that runs this webhook's jobs.") var cycle: UUID
            @Option(help: "How callers prove themselves.") var auth: WebhookAuthScheme = .none
            @Option(help: "The signing secret (generated when left out).") var secret: String?
            @Option(help: "hmac: the header that carries the signature.") var header: String?
            @Option(help: "hmac: sha256 or sha512 (default sha256).") var algorithm: String?
            @Option(help: "hmac: hex or base64 (default hex).") var encoding: String?
            @Option(name: .customLong("allow-ip"), help: "Allow only this network (CIDR); repeatable.")
            var allowIPs: [String] = []

            func run() async throws {
                try await options.run { client in
                    let created = try await WebhookStore(database: client).create(
                        account: account, cycle: cycle, scheme: auth,
                        settings: WebhookAuthSettings(
                            secret: secret, header: header, algorithm: algorithm, encoding: encoding),
                        allowIPs: allowIPs)
                    return WebhookOutput(webhook: created.webhook, secret: created.secret)
                } text: { created in
                    [
                        "created webhook \(created.webhook.id.lowercased) (\(auth.rawValue))",
                        "url:    POST \(created.webhook.urlPath)",
                    ]
                        + (created.secret.map { ["secret: \($0)", "The secret is shown only now."] } ?? [])
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List webhooks (never their secrets).")
            @OptionGroup var options: ResourceOptions
            @Option(help: "Only this account's webhooks.") var account: UUID?

            func run() async throws {
                try await options.run {
                    try await WebhookStore(database: $0).list(account: account)
                } text: {
                    $0.map {
                        "\($0.id.lowercased)  \($0.scheme.rawValue)  account \($0.accountID.lowercased)"
                            + "  cycle \($0.cycleID.lowercased)"
                    }
                }
            }
        }

        struct RotateSecret: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "rotate-secret",
                abstract:
                    "Give a signing webhook a new secret, printed this once; the old one works for a grace period.")
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The webhook id.") var id: UUID
            @Option(name: .customLong("grace-seconds"), help: "How long the old secret stays valid (at most 30 days).")
            var grace: Int = 86_400

            func run() async throws {
                try await options.run { client in
                    let rotated = try await WebhookStore(database: client).rotateSecret(id, grace: grace)
                    return WebhookOutput(webhook: rotated.webhook, secret: rotated.secret)
                } text: { rotated in
                    [
                        "rotated the secret of webhook \(rotated.webhook.id.lowercased)",
                        "secret: \(rotated.secret ?? "")", "The secret is shown only now.",
                    ]
                        + (rotated.webhook.previousSecretExpiresAt.map {
                            ["The previous secret is accepted until \($0.formatted(.iso8601))."]
                        } ?? [])
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete a webhook: it answers 404 from then on; its jobs still finish.")
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The webhook id.") var id: UUID

            func run() async throws {
                try await options.run {
                    try await WebhookStore(database: $0).delete(id)
                    return ["deleted": id.lowercased]
                } text: { _ in
                    ["deleted webhook \(id.lowercased)"]
                }
            }
        }
    }
}

/// A webhook as the CLI prints it: the secret only right after creation.
struct WebhookOutput: Encodable {
    var webhook: Webhook
    var secret: String?

    enum CodingKeys: String, CodingKey { case secret }

    func encode(to encoder: any Encoder) throws {
        try webhook.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(secret, forKey: .secret)
    }
}
