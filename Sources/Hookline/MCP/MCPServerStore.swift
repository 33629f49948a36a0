import Foundation
import Postgres

/// Creates, lists, finds, updates and deletes MCP servers.
public struct MCPServerStore: Sendable {
    public let database: PostgresClient

    public init(database: PostgresClient) { self.database = database }

    static let select = """
        SELECT s.id, s.account_id, s.name, s.description, s.auth_scheme, s.created_at, s.updated_at,
               coalesce((SELECT array_agg(c.cycle_id ORDER BY c.position) FROM hookline.mcp_server_cycles c
                         WHERE c.server_id = s.id), '{}')
        FROM hookline.mcp_servers s
        """

    /// Creates a server offering `cycles` (one tool each, in order), which must be the account's and have
    /// distinct names (a tool's name is its cycle's).
    /// - Throws: ``HooklineError`` for no cycles, a repeated cycle, or a cycle that is not the account's.
    public func create(
        account: UUID, name: String, description: String = "", auth: MCPServerAuth = .bearer, cycles: [UUID]
    ) async throws -> MCPServer {
        try Self.check(name: name)
        try Self.check(cycles: cycles)
        let id = try await database.withTransaction { connection -> UUID in
            let rows = try connection.query(
                """
                INSERT INTO hookline.mcp_servers (account_id, name, description, auth_scheme)
                SELECT id, \(name), \(description), \(auth.rawValue) FROM hookline.accounts WHERE id = \(account)
                RETURNING id
                """)
            guard let id = try rows.first?.decode(UUID.self, at: 0) else {
                throw HooklineError.notFound("no account \(account.lowercased)")
            }
            try Self.attach(cycles, to: id, account: account, on: connection)
            return id
        }
        return try await server(id)
    }

    /// Changes what is given; `cycles` replaces the whole list. Open sessions of the server hear of it
    /// (`notifications/tools/list_changed`) on every instance.
    /// - Throws: ``HooklineError`` for an unknown server or a bad cycle list.
    public func update(
        _ id: UUID, name: String? = nil, description: String? = nil, auth: MCPServerAuth? = nil,
        cycles: [UUID]? = nil
    ) async throws -> MCPServer {
        if let name { try Self.check(name: name) }
        if let cycles { try Self.check(cycles: cycles) }
        let found = try await database.withTransaction { connection -> Bool in
            let rows = try connection.query(
                """
                UPDATE hookline.mcp_servers
                SET name = coalesce(\(name), name), description = coalesce(\(description), description),
                    auth_scheme = coalesce(\(auth?.rawValue), auth_scheme), updated_at = now()
                WHERE id = \(id) AND deleted_at IS NULL RETURNING account_id
                """)
            guard let account = try rows.first?.decode(UUID.self, at: 0) else { return false }
            if let cycles {
                try connection.query("DELETE FROM hookline.mcp_server_cycles WHERE server_id = \(id)")
                try Self.attach(cycles, to: id, account: account, on: connection)
            }
            try connection.notify(ConfigNotifications.channel, payload: ConfigNotifications.mcpServerChanged(id))
            return true
        }
        guard found else { throw HooklineError.notFound("no MCP server \(id.lowercased)") }
        return try await server(id)
    }

    /// One account's live servers, or every live server.
    public func list(account: UUID? = nil) async throws -> [MCPServer] {
        try await database.query(
            """
            \(unsafe: Self.select)
            WHERE s.deleted_at IS NULL AND (\(account)::uuid IS NULL OR s.account_id = \(account))
            ORDER BY s.created_at, s.id
            """
        ).map(Self.server)
    }

    /// The live server with `id`, if any.
    public func find(_ id: UUID) async throws -> MCPServer? {
        try await database.query("\(unsafe: Self.select) WHERE s.id = \(id) AND s.deleted_at IS NULL").first.map(
            Self.server)
    }

    /// Deletes a server: from the next request on (on every instance) it answers 404 and its sessions end.
    /// Jobs its tools made stay and finish.
    public func delete(_ id: UUID) async throws {
        let deleted = try await ConfigNotifications.softDelete(
            id, from: "hookline.mcp_servers", announcing: ConfigNotifications.mcpServerChanged(id), on: database)
        guard deleted else { throw HooklineError.notFound("no MCP server \(id.lowercased)") }
    }

    /// The tools a server offers now: its cycles with their current definitions, in order.
    public func tools(of server: MCPServer) async throws -> [MCPTool] {
        try await database.query(
            """
            SELECT c.id, c.name, c.definition FROM hookline.mcp_server_cycles m
            JOIN hookline.cycles c ON c.id = m.cycle_id
            WHERE m.server_id = \(server.id) ORDER BY m.position
            """
        ).map { row in
            let (id, name, definition) = try row.decode((UUID, String, PostgresJSON).self)
            return MCPTool(
                cycleID: id, name: name, definition: try CycleDefinition.parse(saved: definition.bytes).get())
        }
    }

    private func server(_ id: UUID) async throws -> MCPServer {
        guard let server = try await find(id) else { throw HooklineError.notFound("no MCP server \(id.lowercased)") }
        return server
    }

    private static func check(name: String) throws {
        if name.isEmpty { throw HooklineError.invalidField("name", "an MCP server needs a name") }
    }

    private static func check(cycles: [UUID]) throws {
        if cycles.isEmpty { throw HooklineError.invalidField("cycle_ids", "an MCP server needs at least one cycle") }
        if Set(cycles).count != cycles.count { throw HooklineError.invalidField("cycle_ids", "a cycle is given twice") }
    }

    /// Attaches `cycles` in order, refusing any that is not the account's or whose name another has.
    private static func attach(_ cycles: [UUID], to server: UUID, account: UUID, on connection: PostgresConnection)
        throws
    {
        let rows = try connection.query(
            """
            INSERT INTO hookline.mcp_server_cycles (server_id, cycle_id, position)
            SELECT \(server), c.id, i.position FROM unnest(\(cycles)::uuid[]) WITH ORDINALITY AS i(cycle_id, position)
            JOIN hookline.cycles c ON c.id = i.cycle_id AND c.account_id = \(account)
            RETURNING cycle_id
            """)
        if rows.count != cycles.count {
            let attached = Set(try rows.map { try $0.decode(UUID.self, at: 0) })
            let missing = cycles.first { !attached.contains($0) }!
            throw HooklineError.notFound("no cycle \(missing.lowercased) in account \(account.lowercased)")
        }
        let names = try connection.query(
            """
            SELECT c.name FROM hookline.mcp_server_cycles m JOIN hookline.cycles c ON c.id = m.cycle_id
            WHERE m.server_id = \(server) GROUP BY c.name HAVING count(*) > 1 LIMIT 1
            """)
        if let name = try names.first?.decode(String.self, at: 0) {
            throw HooklineError.invalidField(
                "cycle_ids", "two cycles are named \(name): a server's tools need distinct names")
        }
        let offered = try connection.query(
            """
            SELECT c.name FROM hookline.mcp_server_cycles m JOIN hookline.cycles c ON c.id = m.cycle_id
            WHERE m.server_id = \(server)
            """)
        if let name = try offered.map({ try $0.decode(String.self, at: 0) }).first(where: MCPTool.jobToolNames.contains)
        {
            throw HooklineError.invalidField(
                "cycle_ids", "a cycle is named \(name), as one of the job tools every server offers")
        }
    }

    static func server(_ row: PostgresRow) throws -> MCPServer {
        let (id, account, name, description, auth, createdAt, updatedAt, cycles) = try row.decode(
            (UUID, UUID, String, String, String, Date, Date, [UUID]).self)
        guard let auth = MCPServerAuth(rawValue: auth) else { throw PostgresError.decoding("unknown auth \(auth)") }
        return MCPServer(
            id: id, accountID: account, name: name, description: description, auth: auth, cycleIDs: cycles,
            createdAt: createdAt, updatedAt: updatedAt)
    }
}
