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
}
