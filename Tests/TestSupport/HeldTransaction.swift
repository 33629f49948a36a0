import Dispatch
import Postgres

/// A transaction kept open after its statement ran, until ``release()``: a lock held, or a read in progress,
/// while a test watches what else happens.
public final class HeldTransaction: Sendable {
    private let released = DispatchSemaphore(value: 0)
    private let task: Task<Void, any Error>

    /// Runs `statement` in a transaction on a connection of `client` and returns once it has run. When it
    /// fails, this throws its error: a test never waits for a lock that was not taken.
    public init(on client: PostgresClient, _ statement: PostgresQuery) async throws {
        let released = released
        let (ran, signal) = AsyncStream<Void>.makeStream()
        task = Task {
            defer { signal.finish() }
            try await client.withTransaction { connection in
                _ = try connection.query(statement)
                signal.yield()
                released.wait()
            }
        }
        var iterator = ran.makeAsyncIterator()
        if await iterator.next() == nil {
            try await task.value
        }
    }

    /// Ends the transaction (committing it) and waits for that; calling it again does nothing more.
    public func release() async throws {
        released.signal()
        try await task.value
    }
}
