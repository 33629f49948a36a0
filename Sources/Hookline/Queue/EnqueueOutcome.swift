/// What happened to a delivery.
public enum EnqueueOutcome: Sendable, Equatable {
    /// A new job row, committed.
    case accepted(jobID: Int64)
    /// A repeat of an earlier delivery (same webhook and idempotency key): nothing new was stored.
    case duplicate(jobID: Int64)
}
