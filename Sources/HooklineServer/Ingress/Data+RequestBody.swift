import Foundation
import NIOCore
import NIOFoundationCompat

extension Data {
    /// A request body's bytes, to be stored. A large body keeps its buffer's storage when the buffer is nearly
    /// full; otherwise, and for a small body (a copy costs less than sharing), its bytes are copied and the
    /// buffer can go. NIO rounds a buffer's storage up to a power of two: shared, a 5 MiB body would keep 8 MiB
    /// alive until its batch commits, while the body budget counts 5.
    init(requestBody buffer: ByteBuffer) {
        let large = buffer.readableBytes > 256 << 10
        let nearlyFull = buffer.capacity - buffer.readableBytes <= buffer.readableBytes / 4
        self.init(buffer: buffer, byteTransferStrategy: large && nearlyFull ? .noCopy : .copy)
    }
}
