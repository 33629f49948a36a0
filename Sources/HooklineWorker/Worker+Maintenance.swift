extension Worker {
    /// The reaper (every half lease), the history partitions and retention (hourly), and the queue-depth
    /// gauge (with the reaper). Each runs in every worker; advisory locks make one at a time do the work.
    func maintenance() async {
        let clock = ContinuousClock()
        var lastHistory: ContinuousClock.Instant?
        var lastDepth: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                let reclaimed = try await queue.reclaimExpiredLeases()
                if reclaimed > 0 {
                    logger.warning("reclaimed jobs whose lease ran out", metadata: ["jobs": "\(reclaimed)"])
                }
                if lastHistory.map({ $0.duration(to: clock.now) >= .seconds(3600) }) ?? true {
                    lastHistory = clock.now
                    for action in try await queue.maintainHistory(keepDays: settings.historyDays) {
                        logger.info("history maintenance", metadata: ["action": "\(action)"])
                    }
                }
                if lastDepth.map({ $0.duration(to: clock.now) >= .seconds(5) }) ?? true {
                    lastDepth = clock.now
                    metrics.recordDepth(try await queue.depthByState())
                }
            } catch {
                // A statement cancelled by the shutdown is no failure.
                if Task.isCancelled { break }
                logger.error("queue maintenance failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: settings.reaperInterval)
        }
    }
}
