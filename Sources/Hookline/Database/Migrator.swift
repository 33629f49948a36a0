import Postgres

/// Applies pending migrations, in order, each in its own transaction.
///
/// Safe to run from several processes at once: a session advisory lock lets one apply while the others
/// wait, after which they find nothing pending. Applied files are recorded in
/// `hookline.schema_migrations` with the SHA-256 of their text, so that an edited file is reported.
public struct Migrator: Sendable {
    /// The advisory lock key that serialises migrations ("hookline" as ASCII, in a bigint).
    static let lockKey: Int64 = 0x686f_6f6b_6c69_6e65

    public let client: PostgresClient
    public let migrations: [Migration]

    public init(client: PostgresClient, migrations: [Migration]) {
        self.client = client
        self.migrations = migrations
    }

    /// What a run did.
    public struct Report: Sendable {
        /// Files applied by this run, in order.
        public var applied: [Migration]
        /// Files that an earlier run had applied.
        public var alreadyApplied: [Migration]
        /// Applied files whose text has changed since they were applied.
        public var changedSinceApplied: [Migration]
    }

    /// Applies every pending migration.
    ///
    /// - Throws: ``MigrationError`` naming the file and carrying the server's message when a file fails
    ///   (that file's changes are rolled back; files before it stay applied); ``PostgresError`` when the
    ///   database cannot be reached.
    public func migrate() async throws -> Report {
        let migrations = self.migrations
        return try await client.withConnection { connection in
            try connection.query("SELECT pg_advisory_lock(\(Migrator.lockKey))")
            defer { _ = try? connection.query("SELECT pg_advisory_unlock(\(Migrator.lockKey))") }
            // Payloads' JSON, names and keys are UTF-8 text: a database of another encoding (Debian's default
            // cluster is SQL_ASCII under a C locale) would refuse some of it job by job, at run time.
            let encoding = try connection.query(
                "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()"
            )[0].decode(String.self, at: 0)
            guard encoding == "UTF8" else {
                throw MigrationError(
                    file: "(the database)",
                    message: "its encoding is \(encoding); Hookline needs a UTF8 database"
                        + " (createdb --encoding UTF8 --template template0)")
            }
            try connection.execute(
                script: """
                    SET client_min_messages = warning;
                    CREATE SCHEMA IF NOT EXISTS hookline;
                    CREATE TABLE IF NOT EXISTS hookline.schema_migrations (
                        version     integer PRIMARY KEY,
                        file_name   text NOT NULL,
                        sha256      text NOT NULL,
                        applied_at  timestamptz NOT NULL DEFAULT now()
                    );
                    """)
            var recorded: [Int: String] = [:]
            for row in try connection.query("SELECT version, sha256 FROM hookline.schema_migrations") {
                let (version, hash) = try row.decode((Int, String).self)
                recorded[version] = hash
            }
            var report = Report(applied: [], alreadyApplied: [], changedSinceApplied: [])
            for migration in migrations {
                let hash = try Self.sha256(of: migration.sql, on: connection)
                if let appliedHash = recorded[migration.version] {
                    report.alreadyApplied.append(migration)
                    if appliedHash != hash { report.changedSinceApplied.append(migration) }
                    continue
                }
                do {
                    try connection.transaction { connection in
                        try connection.execute(script: migration.sql)
                        try connection.query(
                            """
                            INSERT INTO hookline.schema_migrations (version, file_name, sha256)
                            VALUES (\(migration.version), \(migration.fileName), \(hash))
                            """)
                    }
                } catch let error as PostgresError where error.kind == .query {
                    var message = error.message
                    if let detail = error.detail { message += " (\(detail))" }
                    throw MigrationError(file: migration.fileName, message: message, code: error.code?.rawValue)
                }
                report.applied.append(migration)
            }
            return report
        }
    }

    private static func sha256(of text: String, on connection: PostgresConnection) throws -> String {
        try connection.query("SELECT encode(sha256(convert_to(\(text), 'UTF8')), 'hex')")[0].decode(String.self, at: 0)
    }
}
