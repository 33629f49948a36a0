import Postgres
import Synchronization

/// An in-memory cache of database rows that NOTIFY keeps honest, for the ingress's hot path.
///
/// A value is read from the database the first time a key is asked for and kept; notifications evict it.
/// The cache is trusted only while the LISTEN connection is up (``connected()`` until ``disconnected()``):
/// otherwise every look-up reads the database, so a missed notification can never serve stale data. A read
/// that was in flight while anything was evicted is used for its request but not kept, so an eviction
/// cannot be undone by a read that started before it. `nil` values (no such row) are kept too: for keys that
/// are random ids, a row that does not exist now never will.
final class NotifiedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        var live = false
        var generation: UInt64 = 0
        var entries: [Key: Value?] = [:]
    }

    private let state = Mutex(State())
    private let maxEntries: Int

    init(maxEntries: Int) { self.maxEntries = maxEntries }

    /// The cached value, or the loaded one (kept when that is safe).
    func value(for key: Key, load: () async throws -> Value?) async throws -> Value? {
        let (hit, generation) = state.withLock { state -> (Value??, UInt64) in
            (state.live ? state.entries[key] : nil, state.generation)
        }
        if let hit { return hit }
        let loaded = try await load()
        state.withLock { state in
            guard state.live, state.generation == generation else { return }
            if state.entries.count >= maxEntries { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = .some(loaded)
        }
        return loaded
    }

    /// LISTEN is up: start trusting, from empty (whatever changed while nobody listened is unknown).
    func connected() {
        state.withLock { state in
            state.entries.removeAll()
            state.generation &+= 1
            state.live = true
        }
    }

    /// LISTEN is down: stop trusting until it is back.
    func disconnected() {
        state.withLock { state in
            state.live = false
            state.entries.removeAll()
            state.generation &+= 1
        }
    }

    /// Evicts one key.
    func evict(_ key: Key) {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeValue(forKey: key)
        }
    }

    /// Evicts every entry that `predicate` picks.
    func evict(where predicate: (Key, Value?) -> Bool) {
        state.withLock { state in
            state.generation &+= 1
            state.entries = state.entries.filter { !predicate($0.key, $0.value) }
        }
    }

    /// Whether cached values are in use.
    var isLive: Bool { state.withLock { $0.live } }

    /// Applies a listener's connection events; returns the notification for the caller to act on.
    func apply(_ event: PostgresListener.Event) -> PostgresNotification? {
        switch event {
        case .connected:
            connected()
            return nil
        case .disconnected:
            disconnected()
            return nil
        case .notification(let notification):
            return notification
        }
    }
}
