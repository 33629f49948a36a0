import Synchronization

/// A cap on the cancel requests on their way at once, shared by the ``CancelRequestSender``s that use it: a
/// request that a silent server never answers holds its thread for as long as the silence lasts, and
/// connections come and go (a pool replaces those it gave up), so without a cap such threads would pile up.
final class CancelRequestLimit: Sendable {
    /// The process's: every connection uses it.
    static let process = CancelRequestLimit(most: 32)

    let most: Int
    private let inFlight = Atomic(0)

    init(most: Int) { self.most = most }

    /// Takes a place for a request; false when all are taken (the request is not sent).
    func take() -> Bool {
        if inFlight.add(1, ordering: .acquiringAndReleasing).newValue <= most { return true }
        inFlight.subtract(1, ordering: .acquiringAndReleasing)
        return false
    }

    /// Gives back the place of a request that has finished.
    func give() { inFlight.subtract(1, ordering: .acquiringAndReleasing) }

    /// Requests on their way now.
    var count: Int { inFlight.load(ordering: .acquiring) }
}
