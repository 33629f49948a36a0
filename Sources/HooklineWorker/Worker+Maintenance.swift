extension Worker {
    /// The reaper (every half lease), the history partitions and retention (hourly, or a minute after a run
    /// that failed), and the queue-depth gauge (every 5 s), each on its own schedule and each failing alone.
    /// They run in every worker; advisory locks make one at a time do the reaper's and the history's work.
    func maintenance() async {
        let clock = ContinuousClock()
        var reaperDue = clock.now
        var historyDue = clock.now
        var depthDue = clock.now
        while !Task.isCancelled {
            let now = clock.now
            if now >= reaperDue {
                reaperDue = now + settings.reaperInterval
                await housekeeping("reclaiming expired leases") {
                    let reclaimed = try await queue.reclaimExpiredLeases()
                    if reclaimed > 0 {
                        logger.warning("reclaimed jobs whose lease ran out", metadata: ["jobs": "\(reclaimed)"])
                    }
                }
            }
            if now >= historyDue {
                let done = await housekeeping("history maintenance") {
                    for action in try await queue.maintainHistory(keepDays: settings.historyDays) {
                        logger.info("history maintenance", metadata: ["action": "\(action)"])
                    }
                }
                historyDue = clock.now + (done ? .seconds(3600) : .seconds(60))
            }
            if now >= depthDue {
                depthDue = now + .seconds(5)
                await housekeeping("reading the queue's depth") {
                    metrics.recordDepth(try await queue.depthByState())
                }
            }
            try? await Task.sleep(until: min(reaperDue, historyDue, depthDue), clock: clock)
        }
    }

    /// Runs one housekeeping task; whether it succeeded. A failure is logged (a statement cancelled by the
    /// shutdown is none).
    @discardableResult
    private func housekeeping(_ task: String, _ body: () async throws -> Void) async -> Bool {
        do {
            try await body()
            return true
        } catch {
            if !Task.isCancelled {
                logger.error("queue maintenance failed", metadata: ["task": "\(task)", "error": "\(error)"])
            }
            return false
        }
    }
}
