import CLibPQ
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sends libpq's cancel requests for one connection: one at a time, each from a thread of its own.
///
/// `PQcancel` opens a connection of its own to the server, sends the request and waits for the server to close
/// that connection. To a host that vanished from the network, or behind a proxy or NAT that stopped relaying,
/// that wait has no end: run on the connection's thread, it held the thread (and so a pool slot) for as long as
/// the server stayed silent, past the connection's answer timeout (`SilentCancellationTests`; in a failover test
/// it kept `/readyz` failing for 20 s and more after the standby's promotion). Sent from another thread, the
/// connection's thread keeps its own bounds; a request still in flight makes the next one a no-op, so a silent
/// server holds at most one thread per connection, and the process at most ``CancelRequestLimit/process``'s
/// cap. Past the cap a request is not sent; the statement's answer timeout still gives its connection up.
final class CancelRequestSender: Sendable {
    private let limit: CancelRequestLimit
    private let inFlight = Atomic(false)

    init(limit: CancelRequestLimit = .process) { self.limit = limit }

    /// Sends a cancel request for the statement `connection` is running, unless one is still on its way.
    /// Call it on the connection's thread (`PQgetCancel` reads the connection).
    func send(for connection: OpaquePointer) {
        guard inFlight.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        guard limit.take() else {
            inFlight.store(false, ordering: .releasing)
            return
        }
        guard let cancel = PQgetCancel(connection) else {
            limit.give()
            inFlight.store(false, ordering: .releasing)
            return
        }
        // PGcancel is a copy of what the request needs (address, keys): usable after the connection is gone.
        let request = Handle(value: cancel)
        _ = JoinableThread(name: "postgres-cancel") { [self] in
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(request.value, &buffer, Int32(buffer.count))
            PQfreeCancel(request.value)
            limit.give()
            inFlight.store(false, ordering: .releasing)
        }
    }

    /// Waits, blocking, until no request is on its way, `limit` at most; whether none is. A request the server
    /// has taken (`PQcancel` returned) cancels nothing once the statement is over: the backend drops a cancel
    /// that comes while it waits for a command. One still on its way could cancel the next statement.
    func waitUntilSent(limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while inFlight.load(ordering: .acquiring) {
            guard ContinuousClock.now < deadline else { return false }
            usleep(1_000)
        }
        return true
    }

    /// The `PGcancel`, handed to the sending thread, which alone uses it from then on.
    private struct Handle: @unchecked Sendable {
        let value: OpaquePointer
    }
}
