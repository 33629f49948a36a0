import AsyncHTTPClient
import Synchronization

/// HTTP clients that each connect one host name to one address, the one ``DestinationGuard`` checked, through
/// AsyncHTTPClient's `dnsOverride`: the client never resolves the name itself, so an answer that changes after
/// the check (DNS rebinding) cannot send the call elsewhere. TLS still names and verifies the host.
///
/// AsyncHTTPClient takes its overrides per client, not per request, so there is a client per (name, address),
/// each with its own pool of kept-alive connections, and at most ``capacity`` of them: past it, the least
/// recently used client that no call is using is shut down.
final class PinnedHTTPClients: Sendable {
    private struct Key: Hashable {
        var host: String
        var address: String
    }

    private struct Entry {
        let client: HTTPClient
        var users = 0
        var lastUsed: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var clock: UInt64 = 0
        var closed = false
    }

    private let configuration: HTTPClient.Configuration
    private let state = Mutex(State())
    /// Clients kept at most (more only while calls use them).
    let capacity: Int

    init(configuration: HTTPClient.Configuration, capacity: Int = 256) {
        self.configuration = configuration
        self.capacity = capacity
    }

    /// Runs `body` with the client that connects `host` to `address`.
    func with<T>(host: String, address: String, _ body: (HTTPClient) async throws -> T) async throws -> T {
        let key = Key(host: host, address: address)
        let (client, idle) = try acquire(key)
        for client in idle { Self.shutDownLater(client) }
        defer { release(key) }
        return try await body(client)
    }

    /// How many clients are kept.
    var count: Int { state.withLock { $0.entries.count } }

    /// Shuts every client down; later calls fail.
    func shutdown() async {
        let clients = state.withLock { state in
            state.closed = true
            defer { state.entries.removeAll() }
            return state.entries.values.map(\.client)
        }
        for client in clients { try? await client.shutdown() }
    }

    /// The key's client, made if need be, and the idle clients it pushed out.
    private func acquire(_ key: Key) throws -> (HTTPClient, [HTTPClient]) {
        try state.withLock { state in
            guard !state.closed else { throw HTTPClientError.alreadyShutdown }
            state.clock += 1
            if var entry = state.entries[key] {
                entry.users += 1
                entry.lastUsed = state.clock
                state.entries[key] = entry
                return (entry.client, [])
            }
            var configuration = configuration
            configuration.dnsOverride = [key.host: key.address]
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            state.entries[key] = Entry(client: client, users: 1, lastUsed: state.clock)
            var idle: [HTTPClient] = []
            while state.entries.count > capacity,
                let oldest = state.entries.filter({ $0.value.users == 0 }).min(by: {
                    $0.value.lastUsed < $1.value.lastUsed
                })
            {
                idle.append(oldest.value.client)
                state.entries[oldest.key] = nil
            }
            return (client, idle)
        }
    }

    private func release(_ key: Key) {
        state.withLock { state in state.entries[key]?.users -= 1 }
    }

    private static func shutDownLater(_ client: HTTPClient) {
        Task { try? await client.shutdown() }
    }
}
