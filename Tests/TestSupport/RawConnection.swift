import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A plain TCP connection to a loopback port, for tests that behave like broken or hostile clients (a head
/// that never ends, a body that trickles): bytes in, bytes out, and whether the server has closed it.
public final class RawConnection: @unchecked Sendable {
    // @unchecked Sendable: a test uses each connection from one task at a time.
    /// The socket; -1 once ``reset()`` has closed it, so that nothing uses its number after (another socket
    /// may have it by then): a call on -1 fails harmlessly.
    public private(set) var descriptor: Int32

    /// Connects to `127.0.0.1:port`.
    public init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            close(descriptor)
            descriptor = -1  // deinit runs for a class whose init throws once its properties are set
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Sends `text` (or as much as the socket takes at once).
    public func send(_ text: String) { send(Array(text.utf8)) }

    /// Sends `bytes`.
    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Sends as much of `bytes` as the socket takes without waiting, again until it has taken nothing more for
    /// `patience`; returns how many bytes it took. What a server holds back by not reading shows as bytes that
    /// the kernel's buffers could not take.
    public func sendWhileTaken(_ bytes: [UInt8], patience: Duration) -> Int {
        var offset = 0
        let clock = ContinuousClock()
        var lastProgress = clock.now
        while offset < bytes.count, lastProgress.duration(to: clock.now) < patience {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent > 0 {
                offset += sent
                lastProgress = clock.now
            } else if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                usleep(20_000)
            } else {
                break
            }
        }
        return offset
    }

    /// Closes the connection with a reset (`SO_LINGER` 0): the server's kernel drops what it had received
    /// and not yet read, and the server sees the connection fail.
    public func reset() {
        guard descriptor >= 0 else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(descriptor)
        descriptor = -1
    }

    /// Whether the server has closed the connection (end of stream or reset), looking without waiting.
    /// Bytes the server sent are read and dropped.
    public var isClosedByServer: Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count == 0 { return true }
            if count < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        }
    }

    /// What the server has sent so far, waiting up to `timeout` for the first bytes.
    public func read(timeout: Duration) -> String {
        var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&pollDescriptor, 1, milliseconds) > 0 else { return "" }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }

    /// Everything the server sends until it closes the connection, or until `timeout` passes without a byte.
    public func readUntilClosed(timeout: Duration) -> String {
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        while poll(&pollDescriptor, 1, milliseconds) > 0 {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }
}
