import Foundation

/// Runs blocking work (a direct `PostgresConnection`, a child process) on a thread of its own and awaits it,
/// so that tests never park Swift's cooperative threads, which every other test running in parallel needs.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
