import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

@Suite("Migrations")
struct MigratorTests {
    static let shipped: [Migration] = {
        (try? Migration.load(from: Migration.locateDirectory())) ?? []
    }()

    @Test func theShippedMigrationsCreateEveryTableOfTheDesign() async throws {
        let (url, drop) = try await TestDatabase.makeDatabase()
        let client = PostgresClient(connectionString: url, maxConnections: 1)
        defer { client.close() }
        let report = try await Migrator(client: client, migrations: Self.shipped).migrate()
        #expect(report.applied.map(\.fileName) == Self.shipped.map(\.fileName))
        let tables = try await client.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'hookline'"
        ).map { try $0.decode(String.self, at: 0) }
        for table in [
            "accounts", "oauth_clients", "access_tokens", "webhooks", "cycles", "jobs", "job_history", "step_runs",
            "cycle_data", "schema_migrations",
        ] {
            #expect(tables.contains(table), "missing hookline.\(table)")
        }
        await drop()
    }

    /// Text (payloads' JSON, names, keys) is UTF-8: a database of another encoding would refuse some of it at
    /// run time, job by job; it is refused at once instead.
    @Test func aDatabaseThatIsNotUTF8IsRefused() async throws {
        let (url, drop) = try await TestDatabase.makeDatabase(
            options: "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        let client = PostgresClient(connectionString: url, maxConnections: 1)
        defer { client.close() }
        do {
            _ = try await Migrator(client: client, migrations: Self.shipped).migrate()
            Issue.record("a SQL_ASCII database was migrated")
        } catch let error as MigrationError {
            #expect(error.message.contains("SQL_ASCII"), "\(error)")
            #expect(error.message.contains("UTF8"), "\(error)")
        }
        let tables = try await client.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hookline'")[0].decode(Int.self, at: 0)
        #expect(tables == 0, "nothing was created")
        await drop()
    }

    @Test func runningTwiceInARowAppliesEachMigrationOnce() async throws {
        let (url, drop) = try await TestDatabase.makeDatabase()
        let client = PostgresClient(connectionString: url, maxConnections: 1)
        defer { client.close() }
        let migrator = Migrator(client: client, migrations: Self.shipped)
        let first = try await migrator.migrate()
        let second = try await migrator.migrate()
        #expect(first.applied.count == Self.shipped.count)
        #expect(second.applied.isEmpty)
        #expect(second.alreadyApplied.count == Self.shipped.count)
        let rows = try await client.query("SELECT count(*), count(DISTINCT version) FROM hookline.schema_migrations")
        #expect(try rows[0].decode((Int, Int).self) == (Self.shipped.count, Self.shipped.count))
        await drop()
    }

    @Test func concurrentRunsTakeTurnsAndApplyEachMigrationOnce() async throws {
        let (url, drop) = try await TestDatabase.makeDatabase()
        let reports = try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let client = PostgresClient(connectionString: url, maxConnections: 1)
                    defer { client.close() }
                    return try await Migrator(client: client, migrations: Self.shipped).migrate()
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.map(\.applied.count).reduce(0, +) == Self.shipped.count)
        let client = PostgresClient(connectionString: url, maxConnections: 1)
        defer { client.close() }
        let count = try await client.query("SELECT count(*) FROM hookline.schema_migrations")
        #expect(try count[0].decode(Int.self, at: 0) == Self.shipped.count)
        await drop()
    }

    @Test func aFailingMigrationNamesItsFileRollsBackAndKeepsEarlierOnes() async throws {
        let (url, drop) = try await TestDatabase.makeDatabase()
        let client = PostgresClient(connectionString: url, maxConnections: 1)
        defer { client.close() }
        let migrations = [
            Migration(version: 1, fileName: "0001_good.sql", sql: "CREATE TABLE public.good (v int);"),
            Migration(
                version: 2, fileName: "0002_bad.sql",
                sql: "CREATE TABLE public.half (v int);\nINSERT INTO missing_table VALUES (1);"),
            Migration(version: 3, fileName: "0003_later.sql", sql: "CREATE TABLE public.later (v int);"),
        ]
        await #expect {
            try await Migrator(client: client, migrations: migrations).migrate()
        } throws: { error in
            guard let error = error as? MigrationError else { return false }
            return error.file == "0002_bad.sql" && error.message.contains("missing_table")
                && error.code == PostgresError.Code.undefinedTable.rawValue
        }
        let tables = try await client.query(
            "SELECT array_agg(table_name::text ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        #expect(try tables[0].decode([String].self, at: 0) == ["good"])
        let versions = try await client.query("SELECT array_agg(version::int8) FROM hookline.schema_migrations")
        #expect(try versions[0].decode([Int].self, at: 0) == [1])
        await drop()
    }

    @Test func anEditedMigrationIsReported() async throws {
        let (url, drop) = try await TestDatabase.makeDatabase()
        let client = PostgresClient(connectionString: url, maxConnections: 1)
        defer { client.close() }
        let original = Migration(version: 1, fileName: "0001_t.sql", sql: "CREATE TABLE t (v int);")
        _ = try await Migrator(client: client, migrations: [original]).migrate()
        var edited = original
        edited.sql = "CREATE TABLE t (v bigint);"
        let report = try await Migrator(client: client, migrations: [edited]).migrate()
        #expect(report.applied.isEmpty)
        #expect(report.changedSinceApplied == [edited])
        await drop()
    }

    @Test func filesLoadInNumericOrderAndDuplicateNumbersAreRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["0010_ten.sql", "0002_two.sql", "0001_one.sql", "README.md"] {
            try Data("SELECT 1;".utf8).write(to: directory.appendingPathComponent(name))
        }
        #expect(try Migration.load(from: directory).map(\.version) == [1, 2, 10])
        try Data("SELECT 2;".utf8).write(to: directory.appendingPathComponent("0002_again.sql"))
        #expect(throws: MigrationError.self) { try Migration.load(from: directory) }
    }
}
