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
///
/// Bounded: at most `maxEntries` entries (keys are fixed-size ids or hashes, values rows of bounded size),
/// each trusted for `timeToLive` at most. When the cache is full, expired entries go first, then, if it is
/// still full, all of them: a flood of unknown keys costs database reads, never memory.
final class NotifiedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value?
        var storedAt: ContinuousClock.Instant
    }

    private struct State {
        var live = false
        var generation: UInt64 = 0
        var entries: [Key: Entry] = [:]
    }

    private let state = Mutex(State())
    private let maxEntries: Int
    private let timeToLive: Duration

    init(maxEntries: Int, timeToLive: Duration = NotifiedCacheDefaults.timeToLive) {
        self.maxEntries = maxEntries
        self.timeToLive = timeToLive
    }

    /// The cached value, or the loaded one (kept when that is safe).
    func value(for key: Key, load: () async throws -> Value?) async throws -> Value? {
        let now = ContinuousClock.now
        let (hit, generation) = state.withLock { state -> (Entry?, UInt64) in
            (state.live ? state.entries[key] : nil, state.generation)
        }
        if let hit, hit.storedAt.duration(to: now) < timeToLive { return hit.value }
        let loaded = try await load()
        state.withLock { state in
            guard state.live, state.generation == generation else { return }
            if state.entries[key] == nil, state.entries.count >= maxEntries {
                state.entries = state.entries.filter { $0.value.storedAt.duration(to: now) < timeToLive }
                if state.entries.count >= maxEntries { state.entries.removeAll(keepingCapacity: true) }
            }
            state.entries[key] = Entry(value: loaded, storedAt: now)
        }
        return loaded
    }

    /// The cached value without waiting: `.some(nil)` for a key known to have no row, `nil` when the database
    /// must be asked (not cached, expired, or LISTEN down).
    func cachedValue(for key: Key) -> Value?? {
        let now = ContinuousClock.now
        return state.withLock { state -> Value?? in
            guard state.live, let hit = state.entries[key], hit.storedAt.duration(to: now) < timeToLive else {
                return nil
            }
            return .some(hit.value)
        }
    }

    /// How many entries are kept.
    var count: Int { state.withLock { $0.entries.count } }

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
            state.entries = state.entries.filter { !predicate($0.key, $0.value.value) }
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
