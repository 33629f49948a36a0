import Foundation

extension Data {
    /// Lowercase hex digits.
    public var hexString: String { map { String(format: "%02x", $0) }.joined() }

    /// Decodes hex digits (either case); `nil` for anything else.
    public init?(hexEncoded text: String) {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = Self.hexDigit(high), let l = Self.hexDigit(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        self.init(bytes)
    }

    /// The value of one ASCII hex digit (either case); `nil` for anything else.
    public static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
