import ArgumentParser
import Foundation
import Hookline

extension HooklineCLI {
    /// `hookline cycles create|list|activate|stop`.
    struct Cycles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage cycles, the account workflows that run webhook jobs.",
            subcommands: [Create.self, List.self, Activate.self, Stop.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a cycle from a JSON definition.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "The owning account.") var account: String
            @Option(help: "The cycle definition (JSON); - reads standard input.") var file: String

            func validate() throws {
                guard UUID(uuidString: account) != nil else { throw ValidationError("--account must be a UUID") }
            }

            func run() async throws {
                try await reportingFailures {
                    let data =
                        file == "-"
                        ? FileHandle.standardInput.readDataToEndOfFile()
                        : try Data(contentsOf: URL(fileURLWithPath: file))
                    let client = try database.client()
                    defer { client.close() }
                    let cycle = try await CycleStore(database: client).create(
                        account: UUID(uuidString: account)!, definition: Array(data))
                    if output.json { return try output.printJSON(cycle) }
                    print("created cycle \(cycle.id.lowercased) (\(cycle.name))")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List cycles.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only this account's cycles.") var account: String?

            func run() async throws {
                try await reportingFailures {
                    let client = try database.client()
                    defer { client.close() }
                    let cycles = try await CycleStore(database: client).list(
                        account: account.flatMap(UUID.init(uuidString:)))
                    if output.json { return try output.printJSON(cycles) }
                    for cycle in cycles {
                        print(
                            "\(cycle.id.lowercased)  \(cycle.name)  v\(cycle.version)  \(cycle.active ? "active" : "stopped")"
                        )
                    }
                }
            }
        }

        struct Activate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Run a cycle again; its held jobs go ahead.")
            @OptionGroup var cycle: CycleArgument

            func run() async throws { try await reportingFailures { try await cycle.setActive(true) } }
        }

        struct Stop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Stop a cycle: its webhooks still accept, and the jobs wait as held.")
            @OptionGroup var cycle: CycleArgument

            func run() async throws { try await reportingFailures { try await cycle.setActive(false) } }
        }
    }
}

/// The arguments `cycles activate` and `cycles stop` share, and the work they share.
struct CycleArgument: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The cycle id.") var id: String

    func validate() throws {
        guard UUID(uuidString: id) != nil else { throw ValidationError("the cycle id must be a UUID") }
    }

    func setActive(_ active: Bool) async throws {
        let client = try database.client()
        defer { client.close() }
        let cycle = try await CycleStore(database: client).setActive(UUID(uuidString: id)!, active)
        if output.json { return try output.printJSON(cycle) }
        print("\(active ? "activated" : "stopped") cycle \(cycle.id.lowercased)")
    }
}
