import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A PostgreSQL host on loopback that is not accepting connections yet: it declines encryption and answers
/// every startup packet with SQLSTATE 57P03 ("the database system is starting up"), as a restarting server
/// or a standby that is not ready does. libpq treats that answer as "try the next listed host", at once and
/// without waiting out `connect_timeout`, so whether and in which order a client tried this host is read
/// from ``acceptedConnections`` with no clock involved.
public final class StartingUpServer: Sendable {
    /// The port the server listens on.
    public let port: Int
    private let listener: Int32
    private struct State {
        var accepted = 0
        var stopped = false
    }

    private let state = Mutex(State())

    /// Listens on a free loopback port.
    public init() throws {
        (listener, port) = try LoopbackSocket.listening()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// How many connections the server has accepted: how many times a client tried this host.
    public var acceptedConnections: Int { state.withLock { $0.accepted } }

    /// Stops listening; the accept loop closes the socket as it ends.
    public func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        defer { close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 && (errno == EINTR || errno == ECONNABORTED) { continue }
            guard client >= 0, !state.withLock({ $0.stopped }) else {
                if client >= 0 { close(client) }
                return
            }
            state.withLock { $0.accepted += 1 }
            Thread.detachNewThread { Self.decline(client) }
        }
    }

    /// Answers `N` to SSL and GSS encryption requests, then the startup packet with the 57P03 error.
    private static func decline(_ client: Int32) {
        defer { close(client) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while let packet = readPacket(client) {
            // SSLRequest (80877103) and GSSENCRequest (80877104) are 8 bytes: the length, then the code.
            let code = packet.count == 4 ? packet.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : 0
            if code == 80_877_103 || code == 80_877_104 {
                guard write(client, Array("N".utf8)) else { return }
                continue
            }
            var fields: [UInt8] = []
            for (type, text) in [
                ("S", "FATAL"), ("V", "FATAL"), ("C", "57P03"), ("M", "the database system is starting up"),
            ] {
                fields += Array(type.utf8) + Array(text.utf8) + [0]
            }
            fields.append(0)
            let length = UInt32(fields.count + 4)
            let message = Array("E".utf8) + withUnsafeBytes(of: length.bigEndian) { Array($0) } + fields
            _ = write(client, message)
            return
        }
    }

    /// One untyped packet (a length that counts itself, then the body): the body, or `nil` at end or error.
    private static func readPacket(_ client: Int32) -> [UInt8]? {
        guard let header = read(client, count: 4) else { return nil }
        let length = Int(header.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length >= 4, length <= 10_000 else { return nil }
        return read(client, count: length - 4)
    }

    private static func read(_ client: Int32, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let received = bytes[offset...].withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if received <= 0 { return nil }
            offset += received
        }
        return bytes
    }

    private static func write(_ client: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }
}
