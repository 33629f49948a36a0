import Hookline
import Prometheus
import Synchronization

/// A worker process's Prometheus metrics, in a registry of its own (served by ``MetricsServer``).
public final class WorkerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let claimed: Counter
    let completed: Counter
    let retried: Counter
    let dead: Counter
    let released: Counter
    let lost: Counter
    let running: Gauge
    let claimLatency: DurationHistogram
    let jobDuration: DurationHistogram
    private let depthGauges = Mutex([JobState: Gauge]())

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        claimed = registry.makeCounter(descriptor: Self.name("worker_jobs_claimed_total", "Jobs claimed."))
        completed = registry.makeCounter(
            descriptor: Self.name("worker_jobs_completed_total", "Jobs finished as completed."))
        retried = registry.makeCounter(
            descriptor: Self.name("worker_jobs_retried_total", "Failed attempts that will be retried."))
        dead = registry.makeCounter(
            descriptor: Self.name(
                "worker_jobs_dead_total", "Jobs dead-lettered: permanent failure or no attempts left."))
        released = registry.makeCounter(
            descriptor: Self.name("worker_jobs_released_total", "Unfinished jobs handed back at shutdown."))
        lost = registry.makeCounter(
            descriptor: Self.name("worker_leases_lost_total", "Running jobs whose lease another worker took over."))
        running = registry.makeGauge(descriptor: Self.name("worker_jobs_running", "Jobs running in this process."))
        claimLatency = registry.makeDurationHistogram(
            descriptor: Self.name("worker_claim_seconds", "Time of one claim statement."),
            buckets: [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(100), .seconds(1),
            ])
        jobDuration = registry.makeDurationHistogram(
            descriptor: Self.name("worker_job_duration_seconds", "Time to run one job, its result recorded."),
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500),
                .seconds(1), .seconds(5), .seconds(30), .seconds(120),
            ])
    }

    private static func name(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "hookline", metricName: name, unitName: "", helpText: help)
    }

    /// Sets the queue-depth gauges (jobs in the hot table by state); states not given are set to 0.
    func recordDepth(_ depth: [JobState: Int]) {
        for state in JobState.waitingOrRunning {
            let gauge = depthGauges.withLock { gauges in
                if let gauge = gauges[state] { return gauge }
                let gauge = registry.makeGauge(
                    descriptor: Self.name("queue_depth", "Jobs in the hot table by state (the whole queue)."),
                    labels: [("state", state.rawValue)])
                gauges[state] = gauge
                return gauge
            }
            gauge.set(Double(depth[state] ?? 0))
        }
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
