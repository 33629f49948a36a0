import ArgumentParser
import Foundation
import Hookline

extension HooklineCLI {
    /// `hookline migrate`: applies pending schema migrations.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending schema migrations, each in its own transaction.",
            discussion: """
                Safe to run from several processes at once (they take turns on an advisory lock); a no-op when \
                nothing is pending. Migrations are read from --sql-dir, else from sql/migrations beside the \
                binary (../share/hookline/sql), in the source checkout it was built from, or in the working \
                directory.
                """)

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        @Option(
            name: .customLong("sql-dir"),
            help: ArgumentHelp("Directory holding migrations/ (env: HOOKLINE_SQL_DIR).", valueName: "dir"))
        var sqlDirectory: String?

        func run() async throws {
            try await database.withClient(maxConnections: 1) { client in
                let explicit = sqlDirectory ?? Env.string("HOOKLINE_SQL_DIR")
                let directory = try Migration.locateDirectory(
                    explicit: explicit, executable: CommandLine.arguments.first)
                let migrations = try Migration.load(from: directory)
                let report = try await Migrator(client: client, migrations: migrations).migrate()
                try printReport(report)
            }
        }

        private func printReport(_ report: Migrator.Report) throws {
            if output.json {
                struct Output: Encodable {
                    var applied: [String]
                    var alreadyApplied: [String]
                    var changedSinceApplied: [String]
                    enum CodingKeys: String, CodingKey {
                        case applied
                        case alreadyApplied = "already_applied"
                        case changedSinceApplied = "changed_since_applied"
                    }
                }
                try output.printJSON(
                    Output(
                        applied: report.applied.map(\.fileName),
                        alreadyApplied: report.alreadyApplied.map(\.fileName),
                        changedSinceApplied: report.changedSinceApplied.map(\.fileName)))
                return
            }
            for migration in report.applied { print("applied \(migration.fileName)") }
            if report.applied.isEmpty {
                print("nothing to migrate: \(report.alreadyApplied.count) migration(s) already applied")
            }
            for migration in report.changedSinceApplied {
                FileHandle.standardError.write(
                    Data("warning: \(migration.fileName) has changed since it was applied\n".utf8))
            }
        }
    }
}
