import Synchronization

/// The request-body bytes the ingress holds at once, across every request (`--max-buffered-bytes`).
///
/// A body is held from its first byte until its delivery is committed (or refused); without a budget, many
/// large bodies arriving together would grow the process without bound. A request whose next chunk does not
/// fit is refused with 503 and `Retry-After`, and what it had reserved is given back.
final class BodyBudget: Sendable {
    /// The budget, in bytes.
    let limit: Int
    private let used = Mutex(0)

    init(limit: Int) { self.limit = limit }

    /// Takes `bytes` from the budget; `false` (taking nothing) when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        used.withLock { used in
            guard bytes <= limit - used else { return false }
            used += bytes
            return true
        }
    }

    /// Gives back bytes taken with ``reserve(_:)``.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.withLock { $0 -= bytes }
    }
}
