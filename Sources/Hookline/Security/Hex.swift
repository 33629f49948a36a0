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

extension UUID {
    /// Parses the canonical form, 8-4-4-4-12 hex digits of either case, as `UUID(uuidString:)` does, but
    /// without its `sscanf`: the ingress parses one from every request's path. Concrete (not generic over
    /// `StringProtocol`) and without allocations, so that it compiles to a loop over the string's bytes.
    public init?(canonical text: String) {
        var text = text
        let parsed = text.withUTF8 { utf8 -> uuid_t? in
            guard utf8.count == 36 else { return nil }
            var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let valid = withUnsafeMutableBytes(of: &uuid) { bytes -> Bool in
                var offset = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        guard utf8[offset] == UInt8(ascii: "-") else { return false }
                        offset += 1
                    }
                    guard let high = Data.hexDigit(utf8[offset]), let low = Data.hexDigit(utf8[offset + 1]) else {
                        return false
                    }
                    bytes[index] = high << 4 | low
                    offset += 2
                }
                return true
            }
            return valid ? uuid : nil
        }
        guard let parsed else { return nil }
        self.init(uuid: parsed)
    }
}
