import Foundation
import Hookline
import HooklineAPIGenerated
import OpenAPIRuntime
import Postgres

/// The admin API's operations (`api/openapi.yaml`), answered by the domain layer that the CLI uses too: no
/// SQL here. One extension per resource; errors are thrown, and ``ProblemMiddleware`` answers them.
package struct AdminAPI: APIProtocol {
    let accounts: AccountStore
    let clients: OAuthClientStore
    let webhooks: WebhookStore
    let cycles: CycleStore
    let mcpServers: MCPServerStore
    let jobs: JobStore

    package init(database: PostgresClient, now: @escaping @Sendable () -> Date = { Date() }) {
        accounts = AccountStore(database: database)
        clients = OAuthClientStore(database: database, now: now)
        webhooks = WebhookStore(database: database)
        cycles = CycleStore(database: database)
        mcpServers = MCPServerStore(database: database)
        jobs = JobStore(database: database)
    }

    /// A UUID from a path or query parameter: 400 when it is not one.
    func parameter(_ text: String, _ name: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw Problem(.badRequest, "\(name) is not a UUID") }
        return id
    }

    /// An optional UUID query parameter.
    func parameter(_ text: String?, _ name: String) throws -> UUID? {
        try text.map { try parameter($0, name) }
    }

    /// A UUID from the request body: 422 naming the field when it is not one.
    func field(_ text: String, at pointer: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw Problem.invalid(pointer, "not a UUID") }
        return id
    }
}
