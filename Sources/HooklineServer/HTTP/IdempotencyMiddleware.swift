import Crypto
import Foundation
import HTTPTypes
import Hookline
import HooklineAPI
import Hummingbird

/// `Idempotency-Key` on the admin API's creating POSTs (`paths`): the first request with a key runs and its
/// answer is kept (24 hours, per console client); a repeat with the same method, path and body gets that
/// answer again, marked `Idempotency-Replayed: true`, and changes nothing. The same key with another request is
/// 422; a repeat while the first still runs is 409 with `Retry-After`. A 5xx answer is not kept, so the client
/// may try again. A secret the first answer showed (`client_secret`, `secret`) is not kept: it is shown once,
/// and a replay comes without it.
///
/// Runs after ``APITokenMiddleware`` (the client) and ``APIBodyLimitMiddleware`` (a bounded body).
struct IdempotencyMiddleware: RouterMiddleware {
    let store: APIIdempotencyStore
    /// The request paths of the operations that take the header.
    let paths: Set<String>

    func handle(_ request: Request, context: HooklineRequestContext, next: NextResponder) async throws -> Response {
        let path = Self.routed(request.uri.path)
        guard request.method == .post, paths.contains(path), let key = request.headers[.idempotencyKey],
            let client = context.apiClient
        else { return try await next(request, context) }
        guard (1...255).contains(key.utf8.count) else {
            throw ProblemResponse(Problem(.badRequest, "Idempotency-Key is 1 to 255 bytes"))
        }
        var request = request
        let body = try await request.collectBody(upTo: .max)
        var hash = SHA256()
        hash.update(data: Data("\(request.method.rawValue) \(path)?\(request.uri.query ?? "")\n".utf8))
        hash.update(data: Data(buffer: body))
        let claim: IdempotencyClaim
        do {
            claim = try await store.claim(client: client, key: key, requestHash: Data(hash.finalize()))
        } catch {
            context.logger.error("admin API: database unavailable", metadata: ["error": "\(error)"])
            throw ProblemResponse(.databaseUnavailable)
        }
        switch claim {
        case .replay(let answer):
            var headers: HTTPFields = [.idempotencyReplayed: "true"]
            if let contentType = answer.contentType { headers[.contentType] = contentType }
            if let etag = answer.etag { headers[.eTag] = etag }
            return Response(
                status: .init(code: answer.status), headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(data: answer.body)))
        case .mismatch:
            throw ProblemResponse(Problem(.unprocessableContent, "this Idempotency-Key was used for another request"))
        case .inProgress:
            throw ProblemResponse(
                Problem(
                    .conflict, "a request with this Idempotency-Key is still running; retry",
                    headers: [.retryAfter: "1"]))
        case .fresh(let token):
            var response: Response
            do {
                response = try await next(request, context)
            } catch {
                try? await store.release(client: client, key: key, claim: token)
                throw error
            }
            guard response.status.code < 500 else {
                try? await store.release(client: client, key: key, claim: token)
                return response
            }
            // The answer is kept whole but for its secrets: it is a small JSON document of a creating operation.
            let collector = CollectingWriter()
            try await response.body.write(collector)
            response.body = ResponseBody(byteBuffer: collector.buffer)
            let answer = StoredAnswer(
                status: response.status.code, contentType: response.headers[.contentType],
                etag: response.headers[.eTag], body: Self.withoutSecrets(Data(buffer: collector.buffer)))
            do {
                try await store.finish(client: client, key: key, claim: token, answer: answer)
            } catch {
                // The work is done and its answer goes out; a repeat within the claim's life is 409, and after it
                // runs again.
                context.logger.error("admin API: idempotent answer not kept", metadata: ["error": "\(error)"])
            }
            return response
        }
    }

    /// A JSON object's bytes without its secret members (`client_secret`, `secret`); anything else unchanged.
    static func withoutSecrets(_ body: Data) -> Data {
        guard var object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            object["client_secret"] != nil || object["secret"] != nil
        else { return body }
        object["client_secret"] = nil
        object["secret"] = nil
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }
}

extension IdempotencyMiddleware {
    /// The path as the router matches it: empty segments (a trailing slash, doubled slashes) do not count, so
    /// `/api/v1/accounts/` reaches the same operation as `/api/v1/accounts`, and must meet the same key.
    static func routed(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
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
