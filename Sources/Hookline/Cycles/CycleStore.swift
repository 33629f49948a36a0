import Foundation
import Postgres

/// Creates, lists, activates and stops cycles.
///
/// A definition is parsed and checked before it is stored (``CycleProblems`` lists everything wrong with
/// it), and each change makes a new version. A stopped cycle's webhooks still accept deliveries: their jobs
/// wait as `held`.
public struct CycleStore: Sendable {
    public let database: PostgresClient

    public init(database: PostgresClient) { self.database = database }

    static let columns = "id, account_id, name, version, active, created_at"

    /// Creates a cycle from its JSON definition, as version 1.
    /// - Throws: ``CycleProblems`` listing everything wrong with the definition; ``HooklineError`` for an
    ///   unknown account.
    public func create(account: UUID, definition: [UInt8]) async throws -> Cycle {
        let parsed = try CycleDefinition.parse(definition).get()
        do {
            return try await database.withTransaction { connection in
                let rows = try connection.query(
                    """
                    INSERT INTO hookline.cycles (account_id, name, definition)
                    VALUES (\(account), \(parsed.name), \(PostgresJSON(bytes: definition)))
                    RETURNING \(unsafe: Self.columns)
                    """)
                let cycle = try Self.cycle(rows[0])
                try connection.query(
                    """
                    INSERT INTO hookline.cycle_versions (cycle_id, version, definition)
                    VALUES (\(cycle.id), \(cycle.version), \(PostgresJSON(bytes: definition)))
                    """)
                return cycle
            }
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            throw HooklineError.notFound("no account \(account.lowercased)")
        }
    }

    /// Replaces a cycle's definition with a new version. Jobs accepted from now on run it; jobs already queued
    /// keep running the version they were accepted under.
    ///
    /// With `ifVersion`, only if the cycle is still at one of those versions (an optimistic lock: two operators
    /// editing the same version cannot overwrite each other's edit unnoticed).
    /// - Throws: ``CycleProblems`` for a definition with problems; ``HooklineError`` for an unknown cycle, or
    ///   ``HooklineError/stale(_:)`` when it is at none of `ifVersion`.
    public func update(_ id: UUID, definition: [UInt8], ifVersion: [Int]? = nil) async throws -> Cycle {
        let parsed = try CycleDefinition.parse(definition).get()
        let cycle = try await database.withTransaction { connection -> Cycle? in
            // A name checked only when it changes: a server that offered a cycle of a job tool's name before
            // that was refused can still have the cycle's steps changed.
            let before = try connection.query("SELECT name FROM hookline.cycles WHERE id = \(id)").first?.decode(
                String.self, at: 0)
            let rows = try connection.query(
                """
                UPDATE hookline.cycles
                SET version = version + 1, name = \(parsed.name), definition = \(PostgresJSON(bytes: definition)),
                    updated_at = now()
                WHERE id = \(id) AND (\(ifVersion)::bigint[] IS NULL OR version = ANY(\(ifVersion)))
                RETURNING \(unsafe: Self.columns)
                """)
            guard let row = rows.first else {
                if ifVersion != nil,
                    let now = try connection.query(
                        "SELECT version FROM hookline.cycles WHERE id = \(id)"
                    ).first?.decode(Int.self, at: 0)
                {
                    throw HooklineError.stale(
                        "the cycle is at version \(now), not the one the edit started from: another edit came first")
                }
                return nil
            }
            let cycle = try Self.cycle(row)
            // A cycle is a tool of the MCP servers that offer it, named after it: a new name must not be another
            // tool's of any of them.
            let clash = try connection.query(
                """
                SELECT s.name FROM hookline.mcp_server_cycles m
                JOIN hookline.mcp_servers s ON s.id = m.server_id AND s.deleted_at IS NULL
                JOIN hookline.mcp_server_cycles o ON o.server_id = m.server_id AND o.cycle_id <> m.cycle_id
                JOIN hookline.cycles c ON c.id = o.cycle_id
                WHERE m.cycle_id = \(id) AND c.name = \(parsed.name) LIMIT 1
                """)
            if MCPTool.jobToolNames.contains(parsed.name), parsed.name != before,
                let server = try connection.query(
                    """
                    SELECT s.name FROM hookline.mcp_server_cycles m
                    JOIN hookline.mcp_servers s ON s.id = m.server_id AND s.deleted_at IS NULL
                    WHERE m.cycle_id = \(id) LIMIT 1
                    """
                ).first?.decode(String.self, at: 0)
            {
                throw HooklineError.invalidField(
                    "definition/name",
                    "the MCP server \(server) offers this cycle, and \(parsed.name) is one of its job tools")
            }
            if let server = try clash.first?.decode(String.self, at: 0) {
                throw HooklineError.invalidField(
                    "definition/name",
                    "the MCP server \(server) offers this cycle beside another named \(parsed.name): its tools need distinct names"
                )
            }
            try connection.query(
                """
                INSERT INTO hookline.cycle_versions (cycle_id, version, definition)
                VALUES (\(cycle.id), \(cycle.version), \(PostgresJSON(bytes: definition)))
                """)
            try connection.notify(ConfigNotifications.channel, payload: ConfigNotifications.cycleChanged(cycle.id))
            return cycle
        }
        guard let cycle else { throw HooklineError.notFound("no cycle \(id.lowercased)") }
        return cycle
    }

    /// A cycle with its current definition and the times of all its versions.
    public func show(_ id: UUID) async throws -> (cycle: Cycle, definition: JSON, versions: [(Int, Date)]) {
        let rows = try await database.query(
            "SELECT \(unsafe: Self.columns), definition FROM hookline.cycles WHERE id = \(id)")
        guard let row = rows.first else { throw HooklineError.notFound("no cycle \(id.lowercased)") }
        let definition = try JSON(parsing: try row.decode(PostgresJSON.self, at: 6).bytes)
        let versions = try await database.query(
            "SELECT version, created_at FROM hookline.cycle_versions WHERE cycle_id = \(id) ORDER BY version"
        ).map { try $0.decode((Int, Date).self) }
        return (try Self.cycle(row), definition, versions)
    }

    /// One version of a cycle as it was stored: its definition and when it was made; nil when there is none.
    public func version(_ id: UUID, _ version: Int) async throws -> (definition: JSON, createdAt: Date)? {
        let rows = try await database.query(
            """
            SELECT definition, created_at FROM hookline.cycle_versions
            WHERE cycle_id = \(id) AND version = \(version)
            """)
        guard let row = rows.first else { return nil }
        let (definition, createdAt) = try row.decode((PostgresJSON, Date).self)
        return (try JSON(parsing: definition.bytes), createdAt)
    }

    /// The definition of one version of a cycle, parsed; nil when there is no such version. (A cycle written
    /// into `hookline.cycles` by hand, without a `cycle_versions` row, is read from there.)
    public func definition(_ id: UUID, version: Int) async throws -> CycleDefinition? {
        try await database.withConnection { try Self.definition(id, version: version, on: $0) }
    }

    /// ``definition(_:version:)`` on a connection the caller holds (inside its transaction).
    public static func definition(_ id: UUID, version: Int, on connection: PostgresConnection) throws
        -> CycleDefinition?
    {
        let rows = try connection.query(
            """
            SELECT definition FROM hookline.cycle_versions WHERE cycle_id = \(id) AND version = \(version)
            UNION ALL
            SELECT definition FROM hookline.cycles WHERE id = \(id) AND version = \(version)
            LIMIT 1
            """)
        guard let row = rows.first else { return nil }
        return try CycleDefinition.parse(saved: try row.decode(PostgresJSON.self, at: 0).bytes).get()
    }

    /// One account's cycles, or every cycle.
    public func list(account: UUID? = nil) async throws -> [Cycle] {
        try await database.query(
            """
            SELECT \(unsafe: Self.columns) FROM hookline.cycles
            WHERE \(account)::uuid IS NULL OR account_id = \(account) ORDER BY created_at, id
            """
        ).map(Self.cycle)
    }

    /// Activates or stops a cycle. Jobs of a stopped cycle wait as `held`; activating releases them.
    ///
    /// Two transactions: the cycle's row first, then its jobs. The ingress reads a cycle's row `FOR SHARE`
    /// in each batch, so the first waits for every batch that read the old state to commit, and the second,
    /// starting after, sees their jobs; keeping the row locked for update only for that one short UPDATE means
    /// no batch (with other accounts' deliveries in it) waits while the jobs are moved. The move follows the
    /// row as it is then, not this call's `active` (``JobQueue/followCycleState(_:)``), reading it `FOR SHARE`
    /// as the batches do (so they do not wait for it, and a change of the row does), so a stop and an
    /// activation at once end as the row does. Should the process die between the two, running either command again
    /// finishes the move.
    @discardableResult
    public func setActive(_ id: UUID, _ active: Bool) async throws -> Cycle {
        let rows = try await database.query(
            """
            UPDATE hookline.cycles SET active = \(active), updated_at = now()
            WHERE id = \(id) RETURNING \(unsafe: Self.columns)
            """)
        guard let row = rows.first else { throw HooklineError.notFound("no cycle \(id.lowercased)") }
        let cycle = try Self.cycle(row)
        try await JobQueue(database: database).followCycleState(id)
        return cycle
    }

    static func cycle(_ row: PostgresRow) throws -> Cycle {
        let (id, account, name, version, active, createdAt) = try row.decode((UUID, UUID, String, Int, Bool, Date).self)
        return Cycle(id: id, accountID: account, name: name, version: version, active: active, createdAt: createdAt)
    }
}
