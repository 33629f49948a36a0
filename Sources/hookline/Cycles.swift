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
            @OptionGroup var options: ResourceOptions
            @Option(help: "The owning account.") var account: UUID
            @Option(help: "The cycle definition (JSON); - reads standard input.") var file: String

            func run() async throws {
                let data = try readDefinition(file)
                try await options.run {
                    try await CycleStore(database: $0).create(account: account, definition: data)
                } text: {
                    ["created cycle \($0.id.lowercased) (\($0.name))"]
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List cycles.")
            @OptionGroup var options: ResourceOptions
            @Option(help: "Only this account's cycles.") var account: UUID?

            func run() async throws {
                try await options.run {
                    try await CycleStore(database: $0).list(account: account)
                } text: {
                    $0.map(\.line)
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a cycle: its current definition and its versions.")
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The cycle id.") var id: UUID

            func run() async throws {
                try await options.run { client in
                    let (cycle, definition, versions) = try await CycleStore(database: client).show(id)
                    return CycleDetail(
                        cycle: cycle, definition: definition,
                        versions: versions.map { CycleDetail.Version(version: $0.0, createdAt: $0.1) })
                } text: { detail in
                    ["\(detail.cycle.line)  account \(detail.cycle.accountID.lowercased)"]
                        + detail.versions.map { "  version \($0.version)  \($0.createdAt.formatted(.iso8601))" }
                        + [detail.definition.text]
                }
            }
        }

        struct Update: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Give a cycle a new definition (a new version); queued jobs finish on their own version.")
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The cycle id.") var id: UUID
            @Option(help: "The new definition (JSON); - reads standard input.") var file: String

            func run() async throws {
                let data = try readDefinition(file)
                try await options.run {
                    try await CycleStore(database: $0).update(id, definition: data)
                } text: {
                    ["updated cycle \($0.id.lowercased) to version \($0.version)"]
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
    @OptionGroup var options: ResourceOptions
    @Argument(help: "The cycle id.") var id: UUID

    func setActive(_ active: Bool) async throws {
        try await options.run {
            try await CycleStore(database: $0).setActive(id, active)
        } text: {
            ["\(active ? "activated" : "stopped") cycle \($0.id.lowercased)"]
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

extension Cycle {
    /// The cycle as one line of `cycles list`.
    var line: String { "\(id.lowercased)  \(name)  v\(version)  \(active ? "active" : "stopped")" }
}
