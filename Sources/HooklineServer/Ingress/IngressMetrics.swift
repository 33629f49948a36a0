import Prometheus
import Synchronization

/// The ingress's Prometheus metrics, in a registry of the application's own (served at `/metrics`).
final class IngressMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let batchSize: ValueHistogram
    private let commitLatency: DurationHistogram
    private let failedBatches: Counter
    private let inFlight: Gauge
    /// Requests that ``WebhookChannelHandler`` answered without the router.
    private let fastPathAnswers: Counter
    /// Request-body bytes held now (``BodyBudget``).
    let bufferedBytes: Gauge
    /// Request counters by route and status, made on first use.
    private let requestCounters = Mutex([String: Counter]())

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        batchSize = registry.makeValueHistogram(
            descriptor: Self.name("ingress_batch_size", "Deliveries committed per batch statement."),
            buckets: [1, 2, 5, 10, 25, 50, 100, 128, 256])
        commitLatency = registry.makeDurationHistogram(
            descriptor: Self.name("ingress_commit_seconds", "Time to run and commit one batch statement."),
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
            ])
        failedBatches = registry.makeCounter(
            descriptor: Self.name("ingress_failed_batches_total", "Batches that could not be committed."))
        fastPathAnswers = registry.makeCounter(
            descriptor: Self.name(
                "ingress_fast_path_answers_total",
                "Webhook requests answered in the connection's pipeline, without the router."))
        inFlight = registry.makeGauge(descriptor: Self.name("http_requests_in_flight", "Requests being handled."))
        bufferedBytes = registry.makeGauge(
            descriptor: Self.name(
                "body_buffered_bytes", "Request-body bytes held now, of --max-buffered-bytes (webhooks and MCP)."))
    }

    private static func name(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "hookline", metricName: name, unitName: "", helpText: help)
    }

    func recordBatch(size: Int, commit: Duration) {
        batchSize.record(Double(size))
        commitLatency.record(commit)
    }

    func recordFailedBatch() { failedBatches.increment() }

    /// Counts a request the fast path answered (it is counted by route and status too).
    func recordFastPathAnswer() { fastPathAnswers.increment() }

    /// Counts a finished request by route and status.
    func recordRequest(route: String, status: Int) {
        let key = "\(status) \(route)"
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.name("http_requests_total", "HTTP requests by route and status."),
                labels: [("route", route), ("status", String(status))])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    func requestStarted() { inFlight.increment() }
    func requestFinished() { inFlight.decrement() }

    /// The Prometheus text exposition.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
