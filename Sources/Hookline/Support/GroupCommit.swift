/// The decisions of group commit: callers that each need a statement committed share one statement, and one
/// commit, per batch.
///
/// A value that only decides: it never waits, starts tasks or takes locks. Its owner keeps it in a lock,
/// reports each event to it (an item arrived, the window elapsed, a batch finished) and carries out the
/// action that event returns, outside the lock: commit a batch, then report ``finished()``; or start a timer
/// that reports ``windowElapsed()`` once the duration has passed. Every item arrived is handed out in exactly
/// one ``Action/commit(_:)``, in arrival order, so a caller whose item holds its continuation resumes it
/// exactly once, when its batch is done.
///
/// An item that arrives when no batch is committing goes at once, so an idle system adds no wait. While a
/// batch commits, arrivals wait: they go together as soon as nothing is committing any more, or earlier, in a
/// batch beside those still committing, when `maxBatch` of them wait, when they add up to `maxBatchBytes`,
/// or when `window` has elapsed since the first of them arrived (one timer at a time). With no bound and no
/// window, one batch commits at a time and everything that arrived meanwhile is the next.
///
/// With a window, batches keep their size under steady load: when nothing commits, waiting items go once as
/// many wait as the last batch held (or the window elapses). Without this, N callers that each send again as
/// soon as they are answered settle into batches of 1 and N − 1 in turn (the one answered first sends again
/// while the others commit); with it they share batches of N. An idle system still adds no wait: after a
/// batch of one, the next item goes at once.
///
/// A batch holds at most `maxBatch` items and, past its first, at most `maxBatchBytes`: the first always
/// goes, however large, so no item waits for ever.
public struct GroupCommit<Item> {
    /// What the owner does after an event.
    public enum Action {
        /// Nothing to do.
        case none
        /// Start a timer that reports ``GroupCommit/windowElapsed()`` after this long.
        case startTimer(Duration)
        /// Commit these items in one statement, then report ``GroupCommit/finished()``.
        case commit([Item])
    }

    private let maxBatch: Int?
    private let maxBatchBytes: Int?
    private let window: Duration?
    private var waiting: [(item: Item, bytes: Int)] = []
    private var waitingBytes = 0
    private var timerStarted = false
    /// With a window, how many items wait before they go while nothing commits: the last batch's size.
    private var holdFor = 1

    /// How many batches are committing: handed out in a ``Action/commit(_:)``, not yet ``finished()``.
    public private(set) var inFlight = 0

    /// How many items wait for a batch.
    public var waitingCount: Int { waiting.count }

    /// - Parameters:
    ///   - maxBatch: The most items in one batch; once that many wait, they go beside the batches committing.
    ///   - maxBatchBytes: The most bytes in one batch past its first item; once the waiting items add up to
    ///     that many, as many as fit go beside the batches committing.
    ///   - window: How long after the first item began to wait, while batches commit, whatever waits then goes
    ///     beside them.
    public init(maxBatch: Int? = nil, maxBatchBytes: Int? = nil, window: Duration? = nil) {
        precondition((maxBatch ?? 1) > 0 && (maxBatchBytes ?? 1) > 0, "a batch must be able to hold an item")
        self.maxBatch = maxBatch
        self.maxBatchBytes = maxBatchBytes
        self.window = window
    }

    /// An item needs committing; `bytes` counts toward `maxBatchBytes`.
    public mutating func arrived(_ item: Item, bytes: Int = 0) -> Action {
        waiting.append((item, bytes))
        waitingBytes += bytes
        if (inFlight == 0 && waiting.count >= holdFor) || waiting.count >= (maxBatch ?? .max)
            || waitingBytes >= (maxBatchBytes ?? .max)
        {
            return .commit(take())
        }
        guard let window, !timerStarted else { return .none }
        timerStarted = true
        return .startTimer(window)
    }

    /// The timer of a ``Action/startTimer(_:)`` has fired: whatever waits goes.
    public mutating func windowElapsed() -> Action {
        precondition(timerStarted, "no timer was started")
        timerStarted = false
        return waiting.isEmpty ? .none : .commit(take())
    }

    /// A batch of a ``Action/commit(_:)`` is done, committed or not: when nothing else is committing,
    /// whatever waits goes, once as many wait as the last batch held; fewer wait for the window's timer.
    public mutating func finished() -> Action {
        precondition(inFlight > 0, "no batch was committing")
        inFlight -= 1
        guard inFlight == 0, !waiting.isEmpty else { return .none }
        if waiting.count >= holdFor { return .commit(take()) }
        // Items left behind by a bounded batch may wait without a timer: they get one.
        guard let window, !timerStarted else { return .none }
        timerStarted = true
        return .startTimer(window)
    }

    /// The first waiting items, within the bounds (the first always goes), now counted as committing.
    private mutating func take() -> [Item] {
        var count = 0
        var bytes = 0
        for (_, size) in waiting.prefix(maxBatch ?? .max) {
            if count > 0 && bytes + size > (maxBatchBytes ?? .max) { break }
            count += 1
            bytes += size
        }
        let batch = waiting.prefix(count).map(\.item)
        waiting.removeFirst(count)
        waitingBytes -= bytes
        inFlight += 1
        if window != nil { holdFor = count }
        return batch
    }
}

extension GroupCommit: Sendable where Item: Sendable {}
extension GroupCommit.Action: Sendable where Item: Sendable {}
extension GroupCommit.Action: Equatable where Item: Equatable {}
