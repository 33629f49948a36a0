/// A job's run in a ``Worker``: its number (runs are told apart by it: a job's attempt number can come round
/// again), the attempt it runs, and its task.
struct WorkerRun {
    var number: UInt64
    var attempt: Int
    var task: Task<Void, Never>
}
