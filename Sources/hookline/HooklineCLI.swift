import ArgumentParser

/// `hookline`: the root command. Each subcommand lives in its own file as an extension.
@main
struct HooklineCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hookline",
        abstract: "Webhook ingestion on PostgreSQL: authenticate, enqueue durably, run each account's cycle.",
        subcommands: [
            Migrate.self, Serve.self, Work.self, Accounts.self, Clients.self, Cycles.self, Webhooks.self, Jobs.self,
            MCPServers.self,
        ]
    )
}
