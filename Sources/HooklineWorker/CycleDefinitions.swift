import Foundation
import Hookline
import Postgres
import Synchronization

/// Cycle definitions by cycle and version, each read and parsed once: a version never changes (an update
/// makes a new one), so an entry is never stale; the cache is only emptied when it grows past its bound.
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
        keep(definition, for: key)
        return definition
    }

    /// Reads the definitions of these jobs that are not cached yet, on a connection the caller holds (the
    /// claim's transaction), so that ``cached(for:)`` finds them. A version that is gone or does not parse is
    /// left out: the job's run reports it.
    /// - Throws: ``PostgresError`` when a read fails (the transaction is then aborted).
    public func load(missingFor jobs: [ClaimedJob], on connection: PostgresConnection) throws {
        let missing = cache.withLock { cache in
            Set(
                jobs.compactMap { job -> Key? in
                    guard let cycle = job.cycleID else { return nil }
                    let key = Key(cycle: cycle, version: job.cycleVersion ?? 1)
                    return cache[key] == nil ? key : nil
                })
        }
        for key in missing {
            let definition: CycleDefinition?
            do {
                definition = try CycleStore.definition(key.cycle, version: key.version, on: connection)
            } catch let error as PostgresError {
                throw error
            } catch {
                continue
            }
            if let definition { keep(definition, for: key) }
        }
    }

    private func keep(_ definition: CycleDefinition, for key: Key) {
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[key] = definition
        }
    }

    /// The definition the job was accepted under if it has been read already; nil otherwise.
    public func cached(for job: ClaimedJob) -> CycleDefinition? {
        guard let cycle = job.cycleID else { return nil }
        return cache.withLock { $0[Key(cycle: cycle, version: job.cycleVersion ?? 1)] }
    }

    /// The retry policy of the job's cycle version: the default for a job without a cycle, and for one whose
    /// version is gone or does not parse, so that its failure (which says so) is still recorded.
    /// - Throws: when the version cannot be read (the database).
    func policy(for job: ClaimedJob) async throws -> RetryPolicy {
        do {
            return try await definition(for: job)?.retry ?? .default
        } catch is HooklineError {
            return .default
        } catch is CycleProblems {
            return .default
        }
    }
}
