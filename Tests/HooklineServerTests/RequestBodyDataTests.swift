import Foundation
import NIOCore
import Testing

@testable import HooklineServer

/// A request body's `Data` has the body's bytes, whether it shares its buffer's storage or copies them, and does
/// not change when the buffer is written to afterwards.
@Suite("A request body's bytes")
struct RequestBodyDataTests {
    @Test(arguments: [1_000, 300 << 10, 5 << 20, 8_000_000])
    func theBytesAreTheBodysAndStayTheirs(_ count: Int) {
        var buffer = ByteBuffer()
        var bytes = [UInt8](repeating: 0, count: count)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31) }
        // In chunks, as a body arrives, so that the buffer grows (and rounds its storage up) as it does then.
        for start in stride(from: 0, to: count, by: 65_536) {
            buffer.writeBytes(bytes[start..<min(start + 65_536, count)])
        }
        let data = Data(requestBody: buffer)
        #expect(data.count == count)
        #expect(data.elementsEqual(bytes))
        buffer.clear()
        buffer.writeBytes([UInt8](repeating: 0xFF, count: min(count, 4_096)))
        #expect(data.elementsEqual(bytes), "the buffer's later writes do not reach the data")
    }
}
