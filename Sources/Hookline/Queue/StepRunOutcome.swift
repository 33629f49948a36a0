import Postgres

/// How one attempt at one step ended: the `outcome` column of `hookline.step_runs` (NULL while a step with
/// effects outside, such as an http call, is under way).
public enum StepRunOutcome: String, PostgresTextEnum, Sendable {
    case succeeded
    /// A `filter` step whose condition did not hold: the job ends here.
    case filtered
    /// Failed; the job will be tried again from this step.
    case retry
    /// Failed for good.
    case failed
    /// Failed, and the cycle's `on_error: ignore` let the job go on.
    case ignored
}
