import ArgumentParser
import Hookline

extension HooklineCLI {
    /// `hookline accounts create|list`.
    struct Accounts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create and list accounts.", subcommands: [Create.self, List.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an account.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "The account's name.") var name: String

            func run() async throws {
                try await database.withClient { client in
                    let account = try await AccountStore(database: client).create(name: name)
                    if output.json { return try output.printJSON(account) }
                    print("created account \(account.id.lowercased) (\(account.name))")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List accounts.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            func run() async throws {
                try await database.withClient { client in
                    let accounts = try await AccountStore(database: client).list()
                    if output.json { return try output.printJSON(accounts) }
                    for account in accounts { print("\(account.id.lowercased)  \(account.name)") }
                }
            }
        }
    }
}
