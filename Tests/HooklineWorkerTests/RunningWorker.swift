import HooklineWorker

/// A worker started by ``CycleFixture/startWorker(shutdownSeconds:)``, running in a task of its own.
struct RunningWorker: Sendable {
    let worker: Worker
    let task: Task<Void, any Error>
    let caller: HTTPCaller

    /// Starts the drain (as SIGTERM does) and waits for the worker to stop, then closes its HTTP client.
    func stop() async throws {
        worker.shutdown()
        try await task.value
        try await caller.shutdown()
    }
}
