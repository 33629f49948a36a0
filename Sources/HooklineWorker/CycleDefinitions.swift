import Foundation
import Hookline
import Postgres
import Synchronization

/// Cycle definitions by cycle and version, each read and parsed once: a version never changes (an update
/// makes a new one), so nothing ever needs evicting.
public final class CycleDefinitions: Sendable {
    private let store: CycleStore
    private let cache = Mutex([Key: CycleDefinition]())

    /// By value, not a string made of them: formatting the UUID (sprintf, under Foundation) for every job's
    /// look-up was about 6 % of a draining worker's CPU samples.
    private struct Key: Hashable {
        var cycle: UUID
        var version: Int
    }

    public init(database: PostgresClient) { store = CycleStore(database: database) }

    /// The definition the job was accepted under; nil for a job without a cycle.
    /// - Throws: ``HooklineError/notFound(_:)`` when the version is gone (the cycle was deleted).
    public func definition(for job: ClaimedJob) async throws -> CycleDefinition? {
        guard let cycle = job.cycleID else { return nil }
        let version = job.cycleVersion ?? 1
        let key = Key(cycle: cycle, version: version)
        if let known = cache.withLock({ $0[key] }) { return known }
        guard let definition = try await store.definition(cycle, version: version) else {
            throw HooklineError.notFound("cycle \(cycle.lowercased) has no version \(version)")
        }
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[key] = definition
        }
        return definition
    }

    /// The definition the job was accepted under if it has been read already; nil otherwise.
    public func cached(for job: ClaimedJob) -> CycleDefinition? {
        guard let cycle = job.cycleID else { return nil }
        return cache.withLock { $0[Key(cycle: cycle, version: job.cycleVersion ?? 1)] }
    }

    /// The retry policy of the job's cycle version (the default for a job without a cycle).
    func policy(for job: ClaimedJob) async throws -> RetryPolicy {
        try await definition(for: job)?.retry ?? .default
    }
}
