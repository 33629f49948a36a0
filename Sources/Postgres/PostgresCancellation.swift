import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Cancels the work a connection is doing for one caller, from any thread.
///
/// The pool makes one per request and attaches it to the connection while the request runs. ``cancel()``
/// wakes the connection's thread through a pipe; that thread then sends libpq's cancel request for the
/// statement in flight (and again every quarter second until the statement ends, since a cancel that reaches
/// the server before the statement does is ignored), or stops waiting for a notification.
public final class PostgresCancellation: Sendable {
    private struct State {
        var isCancelled = false
        var wakeDescriptor: Int32?
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { state.withLock { $0.isCancelled } }

    /// Requests cancellation. Safe to call more than once and from any thread.
    public func cancel() {
        state.withLock { state in
            state.isCancelled = true
            // Written under the lock so that the descriptor cannot be closed in between (see detach).
            if let descriptor = state.wakeDescriptor {
                var byte: UInt8 = 1
                _ = write(descriptor, &byte, 1)
            }
        }
    }

    /// Points wake-ups at a connection's pipe while it works for this caller.
    func attach(wakeDescriptor: Int32) {
        state.withLock { state in
            state.wakeDescriptor = wakeDescriptor
            if state.isCancelled {
                var byte: UInt8 = 1
                _ = write(wakeDescriptor, &byte, 1)
            }
        }
    }

    /// Stops pointing at the connection; after this returns no further wake-up is written.
    func detach() {
        state.withLock { $0.wakeDescriptor = nil }
    }
}
