import Crypto
import Foundation
import HTTPTypes
import Hookline
import HooklineAPI
import Hummingbird

/// `Idempotency-Key` on the admin API's POSTs: the first request with a key runs and its answer is kept (24
/// hours, per console client); a repeat with the same method, path and body gets that answer again, marked
/// `Idempotency-Replayed: true`, and changes nothing. The same key with another request is 422; a repeat while
/// the first still runs is 409 with `Retry-After`. A 5xx answer is not kept, so the client may try again.
///
/// Runs after ``APITokenMiddleware`` (the client) and ``APIBodyLimitMiddleware`` (a bounded body).
struct IdempotencyMiddleware: RouterMiddleware {
    let store: APIIdempotencyStore

    func handle(
        _ request: Request, context: HooklineRequestContext,
        next: (Request, HooklineRequestContext) async throws -> Response
    ) async throws -> Response {
        guard request.method == .post, let key = request.headers[.idempotencyKey], let client = context.apiClient
        else { return try await next(request, context) }
        guard (1...255).contains(key.utf8.count) else {
            throw ProblemResponse(Problem(.badRequest, "Idempotency-Key is 1 to 255 bytes"))
        }
        var request = request
        let body = try await request.collectBody(upTo: .max)
        var hash = SHA256()
        hash.update(data: Data("\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8))
        hash.update(data: Data(buffer: body))
        switch try await store.claim(client: client, key: key, requestHash: Data(hash.finalize())) {
        case .replay(let status, let contentType, let stored):
            var headers: HTTPFields = [.idempotencyReplayed: "true"]
            if let contentType { headers[.contentType] = contentType }
            return Response(
                status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: stored)))
        case .mismatch:
            throw ProblemResponse(Problem(.unprocessableContent, "this Idempotency-Key was used for another request"))
        case .inProgress:
            throw ProblemResponse(
                Problem(
                    .conflict, "a request with this Idempotency-Key is still running; retry",
                    headers: [.retryAfter: "1"]))
        case .fresh:
            var response: Response
            do {
                response = try await next(request, context)
            } catch {
                try? await store.release(client: client, key: key)
                throw error
            }
            guard response.status.code < 500 else {
                try? await store.release(client: client, key: key)
                return response
            }
            // The answer is kept whole: it is a small JSON document of a creating operation.
            let collector = CollectingWriter()
            try await response.body.write(collector)
            response.body = ResponseBody(byteBuffer: collector.buffer)
            try await store.finish(
                client: client, key: key, status: response.status.code, contentType: response.headers[.contentType],
                body: Data(buffer: collector.buffer))
            return response
        }
    }
}

/// A response body writer that keeps what is written.
private final class CollectingWriter: ResponseBodyWriter {
    var buffer = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws { self.buffer.writeImmutableBuffer(buffer) }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotencyReplayed = HTTPField.Name("Idempotency-Replayed")!
}
