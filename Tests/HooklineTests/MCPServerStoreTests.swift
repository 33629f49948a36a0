import Foundation
import Hookline
import TestSupport
import Testing

/// A server's tools are named after its cycles, so their names stay distinct however the cycles change.
@Suite("MCP servers' tool names")
struct MCPServerStoreTests {
    func definition(_ name: String) -> [UInt8] {
        Array(#"{"name": "\#(name)", "steps": [{"id": "a", "type": "map", "fields": {"n": "/n"}}]}"#.utf8)
    }

    @Test func aCycleCannotBeRenamedToAnotherToolOfAServerThatOffersIt() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let cycles = CycleStore(database: database.client)
            let first = try await cycles.create(account: account.id, definition: definition("first"))
            let second = try await cycles.create(account: account.id, definition: definition("second"))
            let lone = try await cycles.create(account: account.id, definition: definition("lone"))
            let servers = MCPServerStore(database: database.client)
            _ = try await servers.create(account: account.id, name: "s", cycles: [first.id, second.id])
            _ = try await servers.create(account: account.id, name: "t", cycles: [lone.id])

            await #expect(throws: HooklineError.self) {
                try await cycles.update(second.id, definition: definition("first"))
            }
            #expect(try await cycles.show(second.id).cycle.name == "second", "the refused update changed nothing")
            // A name no tool of its servers has is fine, and so is a cycle no server offers beside another.
            #expect(try await cycles.update(second.id, definition: definition("third")).name == "third")
            #expect(try await cycles.update(lone.id, definition: definition("first")).name == "first")
        }
    }

    /// Every server offers the job tools beside its cycles: a cycle named `get_job` listed two tools of that
    /// name, and calls of it reached the cycle, so the job tool could no longer be called.
    @Test func noCycleOfAServerIsNamedAsAJobTool() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let cycles = CycleStore(database: database.client)
            let servers = MCPServerStore(database: database.client)
            let named = try await cycles.create(account: account.id, definition: definition("get_job"))
            await #expect(throws: HooklineError.self) {
                try await servers.create(account: account.id, name: "s", cycles: [named.id])
            }
            let plain = try await cycles.create(account: account.id, definition: definition("plain"))
            _ = try await servers.create(account: account.id, name: "s", cycles: [plain.id])
            await #expect(throws: HooklineError.self) {
                try await cycles.update(plain.id, definition: definition("queue_stats"))
            }
            #expect(try await cycles.show(plain.id).cycle.name == "plain")
        }
    }
}
