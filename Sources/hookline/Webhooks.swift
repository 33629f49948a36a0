import ArgumentParser
import Foundation
import Hookline

extension HooklineCLI {
    /// `hookline webhooks create|list|delete`.
    struct Webhooks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage webhook endpoints.", subcommands: [Create.self, List.self, Delete.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a webhook; a generated signing secret is printed this once.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "The owning account.") var account: String
            @Option(help: "The account's cycle that runs this webhook's jobs.") var cycle: String
            @Option(help: "none, bearer, standard-webhooks, github, stripe or hmac.") var auth: String = "none"
            @Option(help: "The signing secret (generated when left out).") var secret: String?
            @Option(help: "hmac: the header that carries the signature.") var header: String?
            @Option(help: "hmac: sha256 or sha512 (default sha256).") var algorithm: String?
            @Option(help: "hmac: hex or base64 (default hex).") var encoding: String?
            @Option(name: .customLong("allow-ip"), help: "Allow only this network (CIDR); repeatable.")
            var allowIPs: [String] = []

            func validate() throws {
                guard UUID(uuidString: account) != nil else { throw ValidationError("--account must be a UUID") }
                guard UUID(uuidString: cycle) != nil else { throw ValidationError("--cycle must be a UUID") }
                guard WebhookAuthScheme(rawValue: auth) != nil else {
                    throw ValidationError("--auth must be one of none, bearer, standard-webhooks, github, stripe, hmac")
                }
            }

            func run() async throws {
                try await database.withClient { client in
                    let created = try await WebhookStore(database: client).create(
                        account: UUID(uuidString: account)!, cycle: UUID(uuidString: cycle)!,
                        scheme: WebhookAuthScheme(rawValue: auth)!,
                        settings: WebhookAuthSettings(
                            secret: secret, header: header, algorithm: algorithm, encoding: encoding),
                        allowIPs: allowIPs)
                    if output.json {
                        return try output.printJSON(WebhookOutput(webhook: created.webhook, secret: created.secret))
                    }
                    print("created webhook \(created.webhook.id.lowercased) (\(auth))")
                    print("url:    POST \(created.webhook.urlPath)")
                    if let secret = created.secret {
                        print("secret: \(secret)")
                        print("The secret is shown only now.")
                    }
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List webhooks (never their secrets).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only this account's webhooks.") var account: String?

            func run() async throws {
                try await database.withClient { client in
                    let webhooks = try await WebhookStore(database: client).list(
                        account: account.flatMap(UUID.init(uuidString:)))
                    if output.json { return try output.printJSON(webhooks) }
                    for webhook in webhooks {
                        print(
                            "\(webhook.id.lowercased)  \(webhook.scheme.rawValue)  account \(webhook.accountID.lowercased)"
                                + "  cycle \(webhook.cycleID.lowercased)")
                    }
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete a webhook: it answers 404 from then on; its jobs still finish.")
            @OptionGroup var database: DatabaseOptions
            @Argument(help: "The webhook id.") var id: String

            func validate() throws {
                guard UUID(uuidString: id) != nil else { throw ValidationError("the webhook id must be a UUID") }
            }

            func run() async throws {
                try await database.withClient { client in
                    try await WebhookStore(database: client).delete(UUID(uuidString: id)!)
                    print("deleted webhook \(id.lowercased())")
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
