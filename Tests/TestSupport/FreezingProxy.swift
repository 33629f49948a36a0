import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A TCP proxy on loopback that can go silent: after ``freeze()`` it stops relaying in both directions but
/// keeps every socket open, as a NAT or firewall that forgot a connection does, or a server host that froze.
/// The peers' kernels still acknowledge what is sent, so only an application-level check notices.
public final class FreezingProxy: Sendable {
    /// The port the proxy listens on.
    public let port: Int
    private let listener: Int32
    private let target: Int
    /// Whether the server's notifications are cut out of what it sends (``NotificationFilter``).
    private let dropsNotifications: Bool
    /// The relayed connections by their client socket: the upstream socket and how many of the two relay
    /// threads still run. The last thread to finish closes both sockets, and nothing else closes them, so no
    /// socket is closed twice or used after it was closed (its number could belong to another socket by then).
    private struct State {
        var frozen = false
        var stopped = false
        var pairs: [Int32: (upstream: Int32, relays: Int)] = [:]
    }

    private let state = Mutex(State())

    /// Starts relaying from a free loopback port to `127.0.0.1:target`; with `dropsNotifications`, the
    /// PostgreSQL server's notifications never reach the client (a transaction-mode pooler's LISTEN).
    public init(target: Int, dropsNotifications: Bool = false) throws {
        self.target = target
        self.dropsNotifications = dropsNotifications
        (listener, port) = try LoopbackSocket.listening()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Stops relaying; sockets stay open.
    public func freeze() { state.withLock { $0.frozen = true } }

    /// Stops relaying: shuts the listener and every relayed socket down, which ends the accept loop and the
    /// relay threads; they close the sockets as they finish. A second call does nothing.
    public func stop() {
        // Once only (the listener may be closed by then, and its number another's), and under the lock, which a
        // relay thread takes before it closes a pair: no socket is shut down after it was closed.
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            for (client, pair) in state.pairs {
                shutdown(client, Int32(SHUT_RDWR))
                shutdown(pair.upstream, Int32(SHUT_RDWR))
            }
        }
    }

    private func acceptLoop() {
        // The loop owns the listener: it closes it once `stop()` has shut it down and accept fails.
        defer { close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = LoopbackSocket.address(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            let keep = state.withLock { state -> Bool in
                guard !state.stopped, connected == 0 else { return false }
                state.pairs[client] = (upstream, 2)
                return true
            }
            guard keep else {
                close(client)
                close(upstream)
                continue
            }
            Thread.detachNewThread { [self] in relay(from: client, to: upstream, pair: client) }
            let filter = dropsNotifications ? NotificationFilter() : nil
            Thread.detachNewThread { [self] in relay(from: upstream, to: client, pair: client, filter: filter) }
        }
    }

    /// One relay thread of the connection `pair` has finished: both sockets are shut down, so that the other
    /// thread finishes too, and the last one closes them.
    private func finished(_ pair: Int32) {
        let sockets = state.withLock { state -> (Int32, Int32)? in
            guard var entry = state.pairs[pair] else { return nil }
            entry.relays -= 1
            if entry.relays > 0 {
                state.pairs[pair] = entry
                shutdown(pair, Int32(SHUT_RDWR))
                shutdown(entry.upstream, Int32(SHUT_RDWR))
                return nil
            }
            state.pairs.removeValue(forKey: pair)
            return (pair, entry.upstream)
        }
        if let (client, upstream) = sockets {
            close(client)
            close(upstream)
        }
    }

    /// Copies bytes until either side closes; while frozen, reads nothing (the peer's sends fill the
    /// socket buffers and are acknowledged, but go nowhere).
    private func relay(from source: Int32, to destination: Int32, pair: Int32, filter: NotificationFilter? = nil) {
        defer { finished(pair) }
        var filter = filter
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let (frozen, stopped) = state.withLock { ($0.frozen, $0.stopped) }
            if stopped { return }
            if frozen {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            var pollDescriptor = pollfd(fd: source, events: Int16(POLLIN), revents: 0)
            guard poll(&pollDescriptor, 1, 50) >= 0 else { return }
            if pollDescriptor.revents == 0 { continue }
            let received = recv(source, &buffer, buffer.count, 0)
            if received <= 0 { return }
            let passed = filter?.pass(buffer[..<received]) ?? Array(buffer[..<received])
            let count = passed.count
            var offset = 0
            while offset < count {
                let sent = passed[offset..<count].withUnsafeBytes {
                    send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if sent <= 0 { return }
                offset += sent
            }
        }
    }
}
