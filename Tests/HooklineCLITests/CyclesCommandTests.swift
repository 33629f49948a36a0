import Foundation
import TestSupport
import Testing

@Suite("hookline cycles: create, update, show, and validation errors")
struct CyclesCommandTests {
    func file(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cycle-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func updatesMakeVersionsAndProblemsAreListedWithTheirLocations() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount().id.lowercased
            let first = try file(#"{"name": "v", "steps": [{"id": "f", "type": "filter", "path": "/t", "equals": 1}]}"#)
            let second = try file(#"{"name": "v2", "steps": []}"#)
            let bad = try file(
                #"{"name": "v", "steps": [{"id": "x", "type": "teleport"}, {"id": "x", "type": "map"}]}"#)
            defer { [first, second, bad].forEach { try? FileManager.default.removeItem(atPath: $0) } }

            let created = try #require(
                try await HooklineBinary.json(
                    ["cycles", "create", "--account", account, "--file", first], url: database.url)
                    as? [String: Any])
            let id = try #require(created["id"] as? String)
            #expect(created["version"] as? Int == 1)
            let updated = try #require(
                try await HooklineBinary.json(["cycles", "update", id, "--file", second], url: database.url)
                    as? [String: Any])
            #expect(updated["version"] as? Int == 2)
            #expect(updated["name"] as? String == "v2")
            let shown = try #require(
                try await HooklineBinary.json(["cycles", "show", id], url: database.url) as? [String: Any])
            #expect((shown["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1, 2])
            #expect((shown["definition"] as? [String: Any])?["name"] as? String == "v2")

            for arguments in [
                ["cycles", "create", "--account", account, "--file", bad], ["cycles", "update", id, "--file", bad],
            ] {
                let outcome = try await HooklineBinary.run(arguments + ["--database-url", database.url])
                #expect(outcome.status == 1)
                #expect(outcome.stderr.contains("the cycle definition has 3 problems"), "\(outcome.stderr)")
                #expect(outcome.stderr.contains("/steps/0/type: unknown step type \"teleport\""))
                #expect(outcome.stderr.contains("/steps/1/id: duplicate step id \"x\""))
                #expect(outcome.stderr.contains("/steps/1/fields"))
            }
            let after = try #require(
                try await HooklineBinary.json(["cycles", "show", id], url: database.url) as? [String: Any])
            #expect(after["version"] as? Int == 2, "a refused update changes nothing")
        }
    }
}
