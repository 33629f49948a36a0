import ArgumentParser
import Foundation
import Hookline

extension HooklineCLI {
    /// `hookline clients create|list|revoke`.
    struct Clients: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage OAuth client credentials (account-level, or console-level with --console).",
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create client credentials; the secret is printed this once.")
            @OptionGroup var options: ResourceOptions
            @Option(help: "The owning account (for --scope webhook or mcp).") var account: UUID?
            @Option(help: "webhook or mcp (account-level).") var scope: String?
            @Flag(help: "A console-level client for the admin API (scope api, no account).") var console = false
            @Option(name: .customLong("expires-minutes"), help: "Token lifetime in minutes (default 20160: 14 days).")
            var expiresMinutes: Int?
            @Option(help: "A name that tells these credentials apart.") var description: String = ""

            func validate() throws {
                if console {
                    if account != nil { throw ValidationError("--console clients belong to no account") }
                    if let scope, scope != "api" { throw ValidationError("--console clients have the scope api") }
                } else {
                    guard account != nil else { throw ValidationError("pass --account ID (or --console)") }
                    guard let scope, ["webhook", "mcp"].contains(scope) else {
                        throw ValidationError("--scope must be webhook or mcp")
                    }
                }
            }

            func run() async throws {
                try await options.run { client in
                    let created = try await OAuthClientStore(database: client).create(
                        account: account, scope: console ? .api : OAuthScope(rawValue: scope ?? "") ?? .webhook,
                        expiresMinutes: expiresMinutes, description: description)
                    return ClientOutput(created.client, secret: created.clientSecret)
                } text: { created in
                    [
                        "created \(created.client.scope.rawValue) client \(created.client.clientID)",
                        "client_id:     \(created.client.clientID)", "client_secret: \(created.secret ?? "")",
                        "The secret is shown only now; Hookline keeps only its hash.",
                    ]
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List clients (never their secrets).")
            @OptionGroup var options: ResourceOptions
            @Option(help: "Only this account's clients.") var account: UUID?

            func run() async throws {
                try await options.run {
                    try await OAuthClientStore(database: $0).list(account: account).map { ClientOutput($0) }
                } text: {
                    $0.map(\.client).map { client in
                        "\(client.clientID)  \(client.scope.rawValue)  \(client.accountID?.lowercased ?? "console")  "
                            + "\(client.tokenLifetimeSeconds / 60)min  \(client.revokedAt == nil ? "active" : "revoked")  "
                            + client.description
                    }
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a client: its tokens stop working everywhere and it gets no new ones.")
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The client_id to revoke.") var clientID: String

            func run() async throws {
                try await options.run {
                    ClientOutput(try await OAuthClientStore(database: $0).revoke(clientID: clientID))
                } text: {
                    ["revoked client \($0.client.clientID)"]
                }
            }
        }
    }
}

/// A client as the CLI prints it: `client_secret` only right after creation.
struct ClientOutput: Encodable {
    var client: OAuthClient
    var secret: String?

    init(_ client: OAuthClient, secret: String? = nil) {
        self.client = client
        self.secret = secret
    }

    enum CodingKeys: String, CodingKey {
        case clientSecret = "client_secret"
    }

    func encode(to encoder: any Encoder) throws {
        try client.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(secret, forKey: .clientSecret)
    }
}
