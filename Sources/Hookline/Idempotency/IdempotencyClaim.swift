import Foundation

/// What became of a request's claim on its idempotency key (``APIIdempotencyStore/claim(client:key:requestHash:)``).
public enum IdempotencyClaim: Sendable, Equatable {
    /// The key is this request's, under the claim `token`: run it, then
    /// ``APIIdempotencyStore/finish(client:key:claim:answer:)`` with the token.
    case fresh(token: UUID)
    /// The same request came before and was answered: answer the same.
    case replay(StoredAnswer)
    /// The key was used for another request.
    case mismatch
    /// The first request with this key is still running.
    case inProgress
}

/// An answer kept for the repeats of its request.
public struct StoredAnswer: Sendable, Equatable {
    public var status: Int
    public var contentType: String?
    public var etag: String?
    public var body: Data

    public init(status: Int, contentType: String?, etag: String?, body: Data) {
        self.status = status
        self.contentType = contentType
        self.etag = etag
        self.body = body
    }
}
