import ArgumentParser
import Foundation
import Hookline

extension HooklineCLI {
    /// `hookline mcp-servers create|list|show|update|delete`.
    struct MCPServers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mcp-servers",
            abstract: "Manage MCP servers, which offer an account's cycles as tools to AI agents at /mcp/{id}.",
            subcommands: [Create.self, List.self, Show.self, Update.self, Delete.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create an MCP server offering some of the account's cycles, one tool each.")
            @OptionGroup var options: ResourceOptions
            @Option(help: "The owning account.") var account: UUID
            @Option(help: "The server's name.") var name: String
            @Option(help: "What the server is for.") var description: String = ""
            @Option(help: "Who may call it: bearer (the account's mcp clients) or none (the URL alone).")
            var auth: MCPServerAuth = .bearer
            @Option(
                name: .customLong("cycle"),
                help: "A cycle of the account to offer as a tool (named after the cycle); repeatable, in order.")
            var cycles: [UUID] = []

            func validate() throws {
                if cycles.isEmpty { throw ValidationError("pass at least one --cycle") }
            }

            func run() async throws {
                try await options.run {
                    try await MCPServerStore(database: $0).create(
                        account: account, name: name, description: description, auth: auth, cycles: cycles)
                } text: { server in
                    ["created MCP server \(server.id.lowercased) (\(server.name))", "url:    \(server.urlPath)"]
                        + [server.authLine]
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List MCP servers.")
            @OptionGroup var options: ResourceOptions
            @Option(help: "Only this account's servers.") var account: UUID?

            func run() async throws {
                try await options.run {
                    try await MCPServerStore(database: $0).list(account: account)
                } text: {
                    $0.map(\.line)
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show an MCP server and the cycles it offers.")
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The MCP server id.") var id: UUID

            func run() async throws {
                try await options.run {
                    guard let server = try await MCPServerStore(database: $0).find(id) else {
                        throw HooklineError.notFound("no MCP server \(id.lowercased)")
                    }
                    return server
                } text: { server in
                    [server.line, "url:    \(server.urlPath)", server.authLine]
                        + (server.description.isEmpty ? [] : ["description: \(server.description)"])
                        + server.cycleIDs.map { "  cycle \($0.lowercased)" }
                }
            }
        }

        struct Update: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Change an MCP server; its open sessions hear that its tools changed.")
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The MCP server id.") var id: UUID
            @Option(help: "A new name.") var name: String?
            @Option(help: "A new description.") var description: String?
            @Option(help: "Who may call it from now on.") var auth: MCPServerAuth?
            @Option(
                name: .customLong("cycle"),
                help: "A cycle of the account to offer; repeatable, and the list given replaces the whole list.")
            var cycles: [UUID] = []

            func validate() throws {
                if name == nil && description == nil && auth == nil && cycles.isEmpty {
                    throw ValidationError("nothing to update: pass --name, --description, --auth or --cycle")
                }
            }

            func run() async throws {
                try await options.run {
                    try await MCPServerStore(database: $0).update(
                        id, name: name, description: description, auth: auth, cycles: cycles.isEmpty ? nil : cycles)
                } text: {
                    ["updated MCP server \($0.id.lowercased) (\($0.name))"]
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete an MCP server: it answers 404 from then on; jobs its tools made still finish.")
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The MCP server id.") var id: UUID

            func run() async throws {
                try await options.run {
                    try await MCPServerStore(database: $0).delete(id)
                    return MCPServerDeleted(id: id)
                } text: {
                    ["deleted MCP server \($0.id.lowercased)"]
                }
            }
        }
    }
}

/// `mcp-servers delete --json`.
struct MCPServerDeleted: Encodable {
    var id: UUID
    var deleted = true
}

extension MCPServer {
    /// The server as one line of `mcp-servers list`.
    var line: String {
        "\(id.lowercased)  \(auth.rawValue)  \(name)  account \(accountID.lowercased)  "
            + "\(cycleIDs.count) \(cycleIDs.count == 1 ? "tool" : "tools")"
    }

    /// Who may call the server, and how they get in.
    var authLine: String {
        switch auth {
        case .bearer:
            "auth:   bearer: clients of scope mcp of account \(accountID.lowercased) get tokens at POST /oauth/token"
        case .none: "auth:   none: anyone who knows the URL may call it"
        }
    }
}
