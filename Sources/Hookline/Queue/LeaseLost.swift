/// This worker no longer holds the job: the reaper gave it to another worker, or an operator moved it.
public struct LeaseLost: Error, CustomStringConvertible {
    public var jobID: Int64
    public var description: String { "lost the lease of job \(jobID)" }
}
