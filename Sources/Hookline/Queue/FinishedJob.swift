import Foundation
import Postgres

/// A job as it ended, in history: what a caller waiting for it needs.
public struct FinishedJob: Sendable, Hashable {
    public var id: Int64
    public var state: JobState
    public var outcome: JobOutcome?
    public var stepOutputs: JSON
    public var lastError: String?
    public var attempt: Int
}
