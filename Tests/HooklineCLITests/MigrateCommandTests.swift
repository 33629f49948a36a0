import Foundation
import Postgres
import TestSupport
import Testing

@Suite("hookline migrate")
struct MigrateCommandTests {
    @Test func twiceInARowAppliesOnceThenReportsNothingToDo() async throws {
        let (url, drop) = try await TestDatabase.makeDatabase()
        let first = try await HooklineBinary.run(["migrate", "--database-url", url])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied 0001_schema.sql"))
        let second = try await HooklineBinary.run(["migrate", "--json"], environment: ["DATABASE_URL": url])
        #expect(second.status == 0, "\(second.stderr)")
        let report = try JSONDecoder().decode([String: [String]].self, from: Data(second.stdout.utf8))
        #expect(report["applied"] == [])
        #expect(report["already_applied"]?.contains("0001_schema.sql") == true)
        try await expectEachMigrationAppliedOnce(url)
        await drop()
    }

    @Test func twiceAtTheSameTimeAppliesEachMigrationOnce() async throws {
        let (url, drop) = try await TestDatabase.makeDatabase()
        async let a = HooklineBinary.run(["migrate", "--database-url", url, "--json"])
        async let b = HooklineBinary.run(["migrate", "--database-url", url, "--json"])
        let outcomes = try await [a, b]
        #expect(outcomes.allSatisfy { $0.status == 0 }, "\(outcomes.map(\.stderr))")
        let applied = try outcomes.map {
            try JSONDecoder().decode([String: [String]].self, from: Data($0.stdout.utf8))["applied"] ?? []
        }
        let appliedSchema: [String] = applied.joined().filter { $0 == "0001_schema.sql" }
        #expect(appliedSchema.count == 1)
        try await expectEachMigrationAppliedOnce(url)
        await drop()
    }

    @Test func anUnreachableDatabaseFailsWithOneLineOnStderr() async throws {
        let outcome = try await HooklineBinary.run(["migrate", "--database-url", "postgresql://hookline@127.0.0.1:1/x"])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("cannot reach the database"))
        #expect(outcome.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1)
    }

    @Test func aFailingFileIsNamedWithTheServersMessage() async throws {
        let (url, drop) = try await TestDatabase.makeDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("CREATE TABLE ok (v int);".utf8).write(to: directory.appendingPathComponent("0001_ok.sql"))
        try Data("ALTER TABLE nope ADD COLUMN v int;".utf8).write(to: directory.appendingPathComponent("0002_bad.sql"))
        let outcome = try await HooklineBinary.run(["migrate", "--database-url", url, "--sql-dir", directory.path])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("0002_bad.sql"))
        #expect(outcome.stderr.contains("relation \"nope\" does not exist"))
        await drop()
    }

    func expectEachMigrationAppliedOnce(_ url: String) async throws {
        let client = PostgresClient(connectionString: url, maxConnections: 1)
        defer { client.close() }
        let row = try await client.query(
            "SELECT count(*), count(DISTINCT version), bool_and(version > 0) FROM hookline.schema_migrations")[0]
        let (count, distinct, _) = try row.decode((Int, Int, Bool).self)
        #expect(count >= 1)
        #expect(count == distinct)
    }
}
