import Logging
import Postgres

/// Tries a write of a running job's again, with backoff (0.1 s, doubling to 2 s), while the database cannot
/// be reached (a failover, a restart, a broken or unobtainable connection): for up to `limit` (a lease's
/// length: the job is still this worker's), while `keepTrying` says so, and not once the task is cancelled
/// (then a cancellation error ends it).
/// Writing it once the database is back spares the job's destination a second call after the lease has run
/// out. Only for writes that a second try after a first that committed unseen cannot harm.
struct UnreachableRetry: Sendable {
    let limit: Duration
    let logger: Logger

    func run<T>(
        _ what: String, job: Int64, keepTrying: () -> Bool = { true }, _ body: () async throws -> T
    ) async throws -> T {
        let clock = ContinuousClock()
        let giveUp = clock.now.advanced(by: limit)
        var pause = Duration.milliseconds(100)
        while true {
            do {
                return try await body()
            } catch let error as PostgresError
                where error.isUnreachable && clock.now.advanced(by: pause) < giveUp && keepTrying()
                && !Task.isCancelled
            {
                logger.warning(
                    "\(what) failed; trying again", metadata: ["job": "\(job)", "error": "\(error)", "in": "\(pause)"])
                try? await Task.sleep(for: pause)
                // A cancellation (the drain's end) stops the tries: the run ends, and its job is handed back.
                try Task.checkCancellation()
                pause = min(pause * 2, .seconds(2))
            }
        }
    }
}
