/// What ``JobQueue/enqueue(_:)`` committed.
public struct EnqueuedBatch: Sendable {
    /// Each delivery's outcome, in order; nil for a repeat whose first job another instance's batch claimed
    /// after this batch's snapshot (``JobQueue/firstJob(webhook:key:)`` finds it).
    public var outcomes: [EnqueueOutcome?]
    /// Whether a new job is `available` (its cycle active): the workers should be woken.
    public var madeJobsAvailable: Bool
}
