import ArgumentParser
import Hookline

extension HooklineCLI {
    /// `hookline accounts create|list`.
    struct Accounts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create and list accounts.", subcommands: [Create.self, List.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an account.")
            @OptionGroup var options: ResourceOptions
            @Option(help: "The account's name.") var name: String

            func run() async throws {
                try await options.run {
                    try await AccountStore(database: $0).create(name: name)
                } text: {
                    ["created account \($0.id.lowercased) (\($0.name))"]
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List accounts.")
            @OptionGroup var options: ResourceOptions

            func run() async throws {
                try await options.run {
                    try await AccountStore(database: $0).list()
                } text: { accounts in
                    accounts.map { "\($0.id.lowercased)  \($0.name)" }
                }
            }
        }
    }
}
