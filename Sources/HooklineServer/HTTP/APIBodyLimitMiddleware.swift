import HooklineAPI
import Hummingbird

/// Reads an admin API request's whole body before its route runs, at most `maxBytes` of it (413 beyond,
/// `--max-api-body-bytes`): what follows it (the idempotency check, and the OpenAPI decoder, which reads a
/// body without a limit of its own) sees a buffer of bounded size.
struct APIBodyLimitMiddleware: RouterMiddleware {
    let maxBytes: Int

    func handle(_ request: Request, context: HooklineRequestContext, next: NextResponder) async throws -> Response {
        let tooLarge = ProblemResponse(Problem(.contentTooLarge, "the body is larger than \(maxBytes) bytes"))
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes { throw tooLarge }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge
        }
        // With its length known, the operation can tell a request without a body from one with.
        var head = request.head
        head.headerFields[.contentLength] = String(body.readableBytes)
        return try await next(Request(head: head, body: RequestBody(buffer: body)), context)
    }
}
