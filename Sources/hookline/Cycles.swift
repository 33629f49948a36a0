import ArgumentParser
import Foundation
import Hookline

extension HooklineCLI {
    /// `hookline cycles create|list|show|update|activate|stop`.
    struct Cycles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage cycles, the account workflows that run webhook jobs.",
            subcommands: [Create.self, List.self, Show.self, Update.self, Activate.self, Stop.self])

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
                try await database.withClient { client in
                    let data = try readDefinition(file)
                    let cycle = try await CycleStore(database: client).create(
                        account: UUID(uuidString: account)!, definition: data)
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
                try await database.withClient { client in
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

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a cycle: its current definition and its versions.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The cycle id.") var id: String

            func validate() throws { try requireUUID(id, "the cycle id") }

            func run() async throws {
                try await database.withClient { client in
                    let (cycle, definition, versions) = try await CycleStore(database: client).show(
                        UUID(uuidString: id)!)
                    if output.json {
                        return try output.printJSON(
                            CycleDetail(
                                cycle: cycle, definition: definition,
                                versions: versions.map { CycleDetail.Version(version: $0.0, createdAt: $0.1) }))
                    }
                    print(
                        "\(cycle.id.lowercased)  \(cycle.name)  v\(cycle.version)  \(cycle.active ? "active" : "stopped")  "
                            + "account \(cycle.accountID.lowercased)")
                    for (version, created) in versions { print("  version \(version)  \(created.formatted(.iso8601))") }
                    print(definition.text)
                }
            }
        }

        struct Update: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Give a cycle a new definition (a new version); queued jobs finish on their own version.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The cycle id.") var id: String
            @Option(help: "The new definition (JSON); - reads standard input.") var file: String

            func validate() throws { try requireUUID(id, "the cycle id") }

            func run() async throws {
                try await database.withClient { client in
                    let data = try readDefinition(file)
                    let cycle = try await CycleStore(database: client).update(UUID(uuidString: id)!, definition: data)
                    if output.json { return try output.printJSON(cycle) }
                    print("updated cycle \(cycle.id.lowercased) to version \(cycle.version)")
                }
            }
        }

        struct Activate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Run a cycle again; its held jobs go ahead.")
            @OptionGroup var cycle: CycleArgument

            func run() async throws { try await cycle.setActive(true) }
        }

        struct Stop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Stop a cycle: its webhooks still accept, and the jobs wait as held.")
            @OptionGroup var cycle: CycleArgument

            func run() async throws { try await cycle.setActive(false) }
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
        try await database.withClient { client in
            let cycle = try await CycleStore(database: client).setActive(UUID(uuidString: id)!, active)
            if output.json { return try output.printJSON(cycle) }
            print("\(active ? "activated" : "stopped") cycle \(cycle.id.lowercased)")
        }
    }
}

/// A definition file's bytes, or standard input's for `-`.
func readDefinition(_ file: String) throws -> [UInt8] {
    let data =
        file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
    return Array(data)
}

/// `cycles show --json`.
struct CycleDetail: Encodable {
    var cycle: Cycle
    var definition: JSON
    var versions: [Version]

    struct Version: Encodable {
        var version: Int
        var createdAt: Date
        enum CodingKeys: String, CodingKey {
            case version
            case createdAt = "created_at"
        }
    }

    func encode(to encoder: any Encoder) throws {
        try cycle.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(definition, forKey: .definition)
        try container.encode(versions, forKey: .versions)
    }

    enum Keys: String, CodingKey { case definition, versions }
}
