import Synchronization

/// Wakes one waiting task: signals coalesce, so a burst of notifications makes one wake-up, not many.
/// It also carries the news that new work may be waiting (``workArrived()``), which ``takeWorkArrived()``
/// reads and clears.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var workArrived = true
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// New work may be waiting: wake the waiter to look.
    func workArrived() {
        state.withLock { $0.workArrived = true }
        signal()
    }

    /// Whether work may have arrived since the last call.
    func takeWorkArrived() -> Bool {
        state.withLock { state in
            defer { state.workArrived = false }
            return state.workArrived
        }
    }

    /// Wakes the waiter, or the next one to wait if nobody waits now.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at the first signal since the last wait, or after `timeout`. One waiter at a time.
    func wait(timeout: Duration) async {
        let signalled = state.withLock { state -> Bool in
            defer { state.pending = false }
            return state.pending
        }
        if signalled { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { signal() }
        }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.pending {
                    state.pending = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
    }
}
