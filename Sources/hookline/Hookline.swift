import ArgumentParser

@main
struct HooklineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hookline", abstract: "Webhook ingestion on PostgreSQL.")
}
