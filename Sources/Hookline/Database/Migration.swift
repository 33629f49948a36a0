import Foundation

/// One numbered SQL file of `sql/migrations`, e.g. `0001_schema.sql`.
public struct Migration: Sendable, Hashable {
    /// The number the file name starts with; migrations apply in this order.
    public var version: Int
    /// The file name, e.g. `0001_schema.sql`.
    public var fileName: String
    /// The file's SQL: one or more statements.
    public var sql: String

    public init(version: Int, fileName: String, sql: String) {
        self.version = version
        self.fileName = fileName
        self.sql = sql
    }

    /// Reads every `NNNN_name.sql` in `directory`, ordered by number.
    ///
    /// - Throws: ``MigrationError`` when the directory cannot be read, a `.sql` file's name does not start
    ///   with a number, or two files share a number.
    public static func load(from directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError(file: directory.path, message: "cannot read the migrations directory")
        }
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            guard let version = Int(name.prefix { $0.isNumber }) else {
                throw MigrationError(file: name, message: "a migration's name must start with its number")
            }
            if let other = migrations.first(where: { $0.version == version }) {
                throw MigrationError(file: name, message: "has the same number as \(other.fileName)")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            migrations.append(Migration(version: version, fileName: name, sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// Finds the migrations directory: `explicit` if given (an `sql` directory or its `migrations`
    /// folder), else `sql/migrations` beside an installed binary (`../share/hookline/sql`, `./sql`), in
    /// the source checkout this binary was built from, or under the working directory.
    public static func locateDirectory(explicit: String? = nil, executable: String? = nil) throws -> URL {
        func migrationsFolder(_ directory: URL) -> URL? {
            let nested = directory.appendingPathComponent("migrations")
            for candidate in [nested, directory] where isDirectory(candidate) && containsSQL(candidate) {
                return candidate
            }
            return nil
        }
        if let explicit {
            guard let found = migrationsFolder(URL(fileURLWithPath: explicit)) else {
                throw MigrationError(file: explicit, message: "no migrations found there")
            }
            return found
        }
        var candidates: [URL] = []
        if let executable {
            let binary = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
            candidates.append(binary.appendingPathComponent("../share/hookline/sql").standardized)
            candidates.append(binary.appendingPathComponent("sql"))
        }
        // Sources/Hookline/Database/Migration.swift → the checkout's root.
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(checkout.appendingPathComponent("sql"))
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("sql"))
        for candidate in candidates {
            if let found = migrationsFolder(candidate) { return found }
        }
        throw MigrationError(
            file: "sql/migrations",
            message: "not found beside the binary, in the source checkout, or here; pass --sql-dir")
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func containsSQL(_ url: URL) -> Bool {
        (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.contains { $0.hasSuffix(".sql") } ?? false
    }
}

/// A migration that could not be read or applied: names the file and carries the server's message.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    /// The file (or directory) at fault.
    public var file: String
    /// What went wrong: for a failed statement, the server's message (and detail).
    public var message: String
    /// The SQLSTATE, when the server rejected a statement.
    public var code: String?

    public init(file: String, message: String, code: String? = nil) {
        self.file = file
        self.message = message
        self.code = code
    }

    public var description: String {
        "migration \(file) failed: \(message)" + (code.map { " (SQLSTATE \($0))" } ?? "")
    }
}
