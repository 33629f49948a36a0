import Foundation

/// What became of a request's claim on its idempotency key (``APIIdempotencyStore/claim(client:key:requestHash:)``).
public enum IdempotencyClaim: Sendable, Equatable {
    /// The key is this request's: run it, then ``APIIdempotencyStore/finish(client:key:status:contentType:body:)``.
    case fresh
    /// The same request came before and was answered: answer the same.
    case replay(status: Int, contentType: String?, body: Data)
    /// The key was used for another request.
    case mismatch
    /// The first request with this key is still running.
    case inProgress
}
