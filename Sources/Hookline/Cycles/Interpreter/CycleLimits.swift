/// What one run of a job may take of a shared worker, whatever its cycle and payload ask: the bounds that keep
/// one account's cycle from taking the memory every other account's jobs run in.
public struct CycleLimits: Sendable, Hashable {
    /// Bytes one step's templates may render together (``TemplateBudget``); past it the step fails for good.
    public var maxTemplateBytes: Int
    /// Bytes a job's step outputs may come to together, as JSON text; a step whose output would pass it fails
    /// for good. Outputs are built by reference, so without a bound a map that copies an earlier output into
    /// two fields doubles what the job holds at every step (forty such steps are 2^40 values), and the next
    /// step's templates, the checkpoint and the history row would each go through all of it.
    public var maxOutputBytes: Int

    /// The default of `--max-output-bytes`: 16 MiB, beyond what a webhook body (10 MiB at most by default) and a
    /// few `http` answers (1 MiB each at most) come to.
    public static let defaultMaxOutputBytes = 16 << 20

    public init(
        maxTemplateBytes: Int = TemplateBudget.defaultLimit, maxOutputBytes: Int = CycleLimits.defaultMaxOutputBytes
    ) {
        self.maxTemplateBytes = maxTemplateBytes
        self.maxOutputBytes = maxOutputBytes
    }
}
