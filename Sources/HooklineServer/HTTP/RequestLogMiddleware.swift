import Hummingbird
import Logging

/// Counts each request for `/metrics` by route (the matched pattern, not the raw path), and, with the access
/// log on (`--access-log`), logs its method, path, status and duration, never its query string, headers or
/// body, which may carry credentials, nor a whole webhook id (for an open webhook the URL is the credential).
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: IngressMetrics
    let accessLog: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let start = ContinuousClock.now
        metrics.requestStarted()
        defer { metrics.requestFinished() }
        do {
            let response = try await next(request, context)
            log(request, context, status: response.status.code, start: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(request, context, status: status, start: start)
            throw error
        }
    }

    private func log(_ request: Request, _ context: Context, status: Int, start: ContinuousClock.Instant) {
        metrics.recordRequest(route: context.endpointPath ?? "unmatched", status: status)
        guard accessLog else { return }
        let elapsed = start.duration(to: .now)
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(Self.redacted(request.uri.path))",
                "status": "\(status)",
                "ms": "\((elapsed / .milliseconds(1) * 10).rounded() / 10)",
            ])
    }

    /// The path with a webhook id cut to its first 8 characters: enough to tell webhooks apart in a log,
    /// too little to call one. Runs of `/` are read as one first, as the router reads them (`//webhooks/…`).
    static func redacted(_ path: String) -> String {
        let path = "/" + path.split(separator: "/").joined(separator: "/")
        let prefix = "/webhooks/"
        guard path.hasPrefix(prefix), path.count > prefix.count + 8 else { return path }
        return prefix + path.dropFirst(prefix.count).prefix(8) + "…"
    }
}
