import Hummingbird
import Prometheus
import Synchronization

/// The request-body bytes the server holds at once, across every request (`--max-buffered-bytes`): webhook
/// deliveries and MCP messages draw on the same budget.
///
/// A body is held from its first byte until its request is answered; without a budget, many large bodies
/// arriving together would grow the process without bound. A request whose next chunk does not fit is refused
/// (503 with `Retry-After`), and what it had reserved is given back.
final class BodyBudget: Sendable {
    /// The budget, in bytes.
    let limit: Int
    private let used = Mutex(0)
    /// Shows the bytes held now (`hookline_body_buffered_bytes`).
    private let gauge: Gauge?

    init(limit: Int, gauge: Gauge? = nil) {
        self.limit = limit
        self.gauge = gauge
    }

    /// Takes `bytes` from the budget; `false` (taking nothing) when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        used.withLock { used in
            guard bytes <= limit - used else { return false }
            used += bytes
            gauge?.set(to: Double(used))
            return true
        }
    }

    /// Gives back bytes taken with ``reserve(_:)``.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.withLock { used in
            used -= bytes
            gauge?.set(to: Double(used))
        }
    }

    /// Reads `request`'s body, at most `maxBytes` of it, with its bytes taken from the budget, and gives them
    /// to `use`; they are given back when `use` returns. Throws `tooLarge` when the declared length or the bytes
    /// read pass `maxBytes`, and `busy` when the budget is spent.
    func holding<T>(
        _ request: Request, maxBytes: Int, tooLarge: @autoclosure () -> any Error,
        busy: @autoclosure () -> any Error, _ use: (inout ByteBuffer) async throws -> T
    ) async throws -> T {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes { throw tooLarge() }
        var reserved = 0
        defer { release(reserved) }
        var buffer = ByteBuffer()
        for try await chunk in request.body {
            guard buffer.readableBytes + chunk.readableBytes <= maxBytes else { throw tooLarge() }
            guard reserve(chunk.readableBytes) else { throw busy() }
            reserved += chunk.readableBytes
            buffer.writeImmutableBuffer(chunk)
        }
        return try await use(&buffer)
    }
}
