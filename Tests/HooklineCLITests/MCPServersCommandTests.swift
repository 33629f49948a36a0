import Foundation
import Hookline
import TestSupport
import Testing

@Suite("hookline mcp-servers: create, list, show, update, delete, and refusals")
struct MCPServersCommandTests {
    /// A cycle of `account` named `name`, made through the store (the cycles command has its own tests).
    func makeCycle(_ database: MigratedDatabase, account: String, name: String) async throws -> String {
        let definition = #"{"name": "\#(name)", "steps": []}"#
        let account = try #require(UUID(uuidString: account))
        return try await CycleStore(database: database.client).create(
            account: account, definition: Array(definition.utf8)
        ).id.lowercased
    }

    func run(_ arguments: [String], _ database: MigratedDatabase) async throws -> HooklineBinary.Outcome {
        try await HooklineBinary.run(["mcp-servers"] + arguments + ["--database-url", database.url])
    }

    func json(_ arguments: [String], _ database: MigratedDatabase) async throws -> [String: Any] {
        try #require(try await HooklineBinary.json(["mcp-servers"] + arguments, url: database.url) as? [String: Any])
    }

    func list(_ arguments: [String], _ database: MigratedDatabase) async throws -> [[String: Any]] {
        try #require(
            try await HooklineBinary.json(["mcp-servers", "list"] + arguments, url: database.url) as? [[String: Any]])
    }

    /// The lines of an error message, without the trailing newline.
    func lines(_ text: String) -> [Substring] {
        text.trimmingCharacters(in: .newlines).split(separator: "\n")
    }

    @Test func serversAreCreatedListedShownUpdatedAndDeleted() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount("Acme").id.lowercased
            let other = try await database.makeAccount("Other").id.lowercased
            let lookup = try await makeCycle(database, account: account, name: "lookup")
            let refund = try await makeCycle(database, account: account, name: "refund")
            let escalate = try await makeCycle(database, account: account, name: "escalate")
            let foreign = try await makeCycle(database, account: other, name: "lookup")

            // Created with two cycles, given in the reverse of their creation order: the order given is kept.
            let created = try await json(
                [
                    "create", "--account", account, "--name", "Support", "--description", "Support tools",
                    "--cycle", refund, "--cycle", lookup,
                ], database)
            let id = try #require(created["id"] as? String)
            #expect(id == id.lowercased())
            #expect(created["url"] as? String == "/mcp/\(id)")
            #expect(created["auth"] as? String == "bearer", "bearer is the default")
            #expect(created["cycle_ids"] as? [String] == [refund, lookup])
            #expect(created["account_id"] as? String == account)
            #expect(created["name"] as? String == "Support")
            #expect(created["description"] as? String == "Support tools")

            // The text output: the id and name, the URL, and for bearer where tokens come from.
            let text = try await run(
                ["create", "--account", account, "--name", "Billing", "--cycle", escalate], database)
            #expect(text.status == 0, "\(text.stderr)")
            let textLines = lines(text.stdout)
            let first = try #require(textLines.first)
            #expect(first.hasPrefix("created MCP server ") && first.hasSuffix(" (Billing)"), "\(text.stdout)")
            let billing = String(first.dropFirst("created MCP server ".count).prefix(36))
            #expect(UUID(uuidString: billing) != nil, "\(text.stdout)")
            #expect(textLines.contains("url:    /mcp/\(billing)"), "\(text.stdout)")
            #expect(
                textLines.contains {
                    $0.contains("scope mcp") && $0.contains(account) && $0.contains("POST /oauth/token")
                }, "\(text.stdout)")

            let open = try await json(
                ["create", "--account", other, "--name", "Open", "--auth", "none", "--cycle", foreign], database)
            #expect(open["auth"] as? String == "none")
            let openID = try #require(open["id"] as? String)

            // Listed by account, in creation order; unfiltered, every server.
            #expect(try await list(["--account", account], database).map { $0["id"] as? String } == [id, billing])
            #expect(try await list(["--account", other], database).map { $0["id"] as? String } == [openID])
            #expect(try await list([], database).count == 3)
            let listed = try await run(["list", "--account", account], database)
            let listedLines = lines(listed.stdout)
            #expect(listedLines.count == 2, "\(listed.stdout)")
            #expect(listedLines.first == "\(id)  bearer  Support  account \(account)  2 tools", "\(listed.stdout)")

            // Shown: the server's JSON, and in text its cycles in order.
            let shown = try await json(["show", id], database)
            #expect(shown["id"] as? String == id)
            #expect(shown["url"] as? String == "/mcp/\(id)")
            #expect(shown["cycle_ids"] as? [String] == [refund, lookup])
            #expect(shown["created_at"] is String && shown["updated_at"] is String)
            let shownText = try await run(["show", id], database)
            #expect(shownText.status == 0, "\(shownText.stderr)")
            #expect(
                lines(shownText.stdout).filter { $0.hasPrefix("  cycle ") } == [
                    "  cycle \(refund)", "  cycle \(lookup)",
                ],
                "\(shownText.stdout)")

            // Updated: name and auth change, the cycle list is replaced, the description is kept.
            let updated = try await json(
                ["update", id, "--name", "Helpdesk", "--auth", "none", "--cycle", escalate, "--cycle", lookup],
                database)
            #expect(updated["name"] as? String == "Helpdesk")
            #expect(updated["auth"] as? String == "none")
            #expect(updated["cycle_ids"] as? [String] == [escalate, lookup])
            #expect(updated["description"] as? String == "Support tools")
            let reread = try await json(["show", id], database)
            #expect(reread["name"] as? String == "Helpdesk")
            #expect(reread["cycle_ids"] as? [String] == [escalate, lookup])
            // Only the name: the cycles stay.
            let renamed = try await json(["update", id, "--name", "Desk"], database)
            #expect(renamed["cycle_ids"] as? [String] == [escalate, lookup])
            #expect(renamed["auth"] as? String == "none")

            let nothing = try await run(["update", id], database)
            #expect(nothing.status == 64)
            #expect(nothing.stderr.contains("nothing to update"), "\(nothing.stderr)")

            // Deleted: gone from show and list, with a one-line error.
            let deleted = try await run(["delete", id], database)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(deleted.stdout == "deleted MCP server \(id)\n")
            let gone = try await run(["show", id], database)
            #expect(gone.status == 1)
            #expect(gone.stdout.isEmpty)
            #expect(lines(gone.stderr).count == 1, "\(gone.stderr)")
            #expect(gone.stderr.contains("no MCP server \(id)"), "\(gone.stderr)")
            #expect(try await list(["--account", account], database).map { $0["id"] as? String } == [billing])
            let again = try await run(["delete", id], database)
            #expect(again.status == 1)
            #expect(again.stderr.contains("no MCP server \(id)"), "\(again.stderr)")
            let updateGone = try await run(["update", id, "--name", "Back"], database)
            #expect(updateGone.status == 1)
            #expect(updateGone.stderr.contains("no MCP server \(id)"), "\(updateGone.stderr)")
        }
    }

    @Test func badCycleListsAndArgumentsAreRefusedAndChangeNothing() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount("Acme").id.lowercased
            let other = try await database.makeAccount("Other").id.lowercased
            let lookup = try await makeCycle(database, account: account, name: "lookup")
            let twin = try await makeCycle(database, account: account, name: "lookup")
            let refund = try await makeCycle(database, account: account, name: "refund")
            let foreign = try await makeCycle(database, account: other, name: "foreign")

            let create = ["create", "--account", account, "--name", "Support"]
            let refusals: [(arguments: [String], status: Int32, message: String)] = [
                (create + ["--cycle", lookup, "--cycle", foreign], 1, "no cycle \(foreign) in account \(account)"),
                (create + ["--cycle", refund, "--cycle", refund], 1, "a cycle is given twice"),
                (create, 64, "at least one --cycle"),
                (create + ["--cycle", lookup, "--cycle", twin], 1, "two cycles are named lookup"),
                (
                    ["create", "--account", "not-a-uuid", "--name", "Support", "--cycle", lookup], 64,
                    "'not-a-uuid' is invalid for '--account"
                ),
                (create + ["--cycle", "nope"], 64, "'nope' is invalid for '--cycle"),
                (create + ["--cycle", lookup, "--auth", "basic"], 64, "'basic' is invalid for '--auth"),
                (
                    ["create", "--account", UUID().uuidString, "--name", "Support", "--cycle", lookup], 1,
                    "no account"
                ),
            ]
            for refusal in refusals {
                let outcome = try await run(refusal.arguments, database)
                #expect(outcome.status == refusal.status, "\(refusal.arguments): \(outcome.stderr)")
                #expect(outcome.stdout.isEmpty, "\(refusal.arguments)")
                #expect(outcome.stderr.contains(refusal.message), "\(refusal.arguments): \(outcome.stderr)")
                if refusal.status == 1 {
                    #expect(lines(outcome.stderr).count == 1, "\(refusal.arguments): \(outcome.stderr)")
                }
            }
            #expect(try await list([], database).isEmpty, "a refused create leaves nothing behind")

            // A refused update leaves the server as it was.
            let server = try await json(create + ["--cycle", refund, "--cycle", lookup], database)
            let id = try #require(server["id"] as? String)
            for (cycles, message) in [
                ([foreign], "no cycle \(foreign) in account \(account)"),
                ([lookup, lookup], "a cycle is given twice"),
                ([twin, lookup], "two cycles are named lookup"),
            ] {
                let outcome = try await run(
                    ["update", id, "--name", "Changed"] + cycles.flatMap { ["--cycle", $0] }, database)
                #expect(outcome.status == 1, "\(cycles): \(outcome.stderr)")
                #expect(outcome.stderr.contains(message), "\(cycles): \(outcome.stderr)")
            }
            let after = try await json(["show", id], database)
            #expect(after["name"] as? String == "Support")
            #expect(after["cycle_ids"] as? [String] == [refund, lookup])
        }
    }
}
