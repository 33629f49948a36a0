import Hummingbird
import Logging
import NIOPosix

/// Serves a worker process's metrics at `GET /metrics` (and `GET /healthz`) on a port of its own.
public func buildMetricsServer(
    metrics: WorkerMetrics, host: String, port: Int, logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    router.get("/metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }
    router.get("/healthz") { _, _ in HTTPResponse.Status.ok }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "hookline-worker"),
        eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: 1)),
        logger: logger)
}
