import Foundation

/// A job as operators see it, in the hot table or in history.
public struct JobSummary: Sendable, Hashable, Encodable {
    public var id: Int64
    public var accountID: UUID
    public var webhookID: UUID?
    public var cycleID: UUID?
    public var state: JobState
    public var attempt: Int
    public var maxAttempts: Int
    /// When it runs next (hot table) or finished (history).
    public var at: Date
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case id, state, attempt, at
        case accountID = "account_id"
        case webhookID = "webhook_id"
        case cycleID = "cycle_id"
        case maxAttempts = "max_attempts"
        case lastError = "last_error"
    }
}
