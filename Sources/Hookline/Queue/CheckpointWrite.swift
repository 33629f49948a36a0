import Foundation
import Postgres

/// What a step writes in its checkpoint's transaction, besides the job's progress and step runs.
public enum CheckpointWrite: Sendable, Hashable {
    /// Nothing more (an http step's answer is in the progress).
    case none
    /// A `store` step's value, upserted into `hookline.cycle_data`.
    case store(cycle: UUID, key: String, value: PostgresJSON)
    /// A `split` step's children: one job per body, each starting at `nextStep` with `outputs` as its earlier
    /// steps' outputs, and the parent's headers only when `copyHeaders` (a later step reads them).
    case children(nextStep: Int, outputs: PostgresJSON, bodies: [Data], copyHeaders: Bool)
    /// A `delay` step: the job waits `seconds`, its attempt not counted (waiting is not trying).
    case postpone(seconds: Double)
}
