import Synchronization

/// A cap on the cancel requests on their way at once, shared by the ``CancelRequestSender``s that use it: a
/// request that a silent server never answers holds its thread for as long as the silence lasts, and
/// connections come and go (a pool replaces those it gave up), so without a cap such threads would pile up.
/// Past the cap a request is not sent; the statement's answer timeout still gives its connection up.
public final class CancelRequestLimit: Sendable {
    /// The process's, which every connection uses: 32 unless ``most`` is set (`--max-cancel-requests`).
    public static let process = CancelRequestLimit(most: 32)

    private let cap: Atomic<Int>
    private let inFlight = Atomic(0)

    init(most: Int) { cap = Atomic(most) }

    /// Requests on their way at once, at most.
    public var most: Int {
        get { cap.load(ordering: .relaxed) }
        set { cap.store(newValue, ordering: .relaxed) }
    }

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
