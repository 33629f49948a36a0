import NIOCore
import Synchronization

/// One MCP event stream on its way from the SDK's transport to the client: the events in order, and a way
/// to end it from outside (graceful shutdown, the session's end, a newer stream past the session's bound)
/// after which nothing still buffered is written.
final class EventRelay: Sendable {
    let chunks: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    private let ended = Mutex(false)

    init() { (chunks, continuation) = AsyncStream.makeStream() }

    /// An event to write.
    func yield(_ chunk: ByteBuffer) { continuation.yield(chunk) }

    /// The SDK's stream is over: what is buffered is still written.
    func finish() { continuation.finish() }

    /// Ends the stream from outside: what is buffered is dropped.
    func end() {
        ended.withLock { $0 = true }
        continuation.finish()
    }

    var isEnded: Bool { ended.withLock { $0 } }
}
