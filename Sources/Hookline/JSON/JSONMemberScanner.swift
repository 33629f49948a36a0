import Foundation

/// Finds one string member of a JSON object by walking its text once, keeping nothing of the other members.
///
/// For a Stripe-signed body's event `id`, which the ingress reads before it answers: a full parse of a
/// 10 MiB body of small values (`{"id": "evt_1", "a": [0,0,0,…]}`) builds millions of values on the event loop
/// and holds their memory outside the body budget, where this costs one pass over bytes the signature check
/// has already read. It does not validate what it skips: a body that is not JSON is refused by the worker.
enum JSONMemberScanner {
    /// The string value of the top-level member `name` of the object `text` is; nil when `text` is not an
    /// object, has no such member, or its value is not a string. The last of repeated members counts, as
    /// Hookline's parser (the workers') reads them.
    static func string(named name: String, in text: Data) -> String? {
        text.withUnsafeBytes { raw in
            var cursor = Cursor(bytes: raw)
            return cursor.member(named: name)
        }
    }

    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        private static let comma = UInt8(ascii: ","), colon = UInt8(ascii: ":")
        private static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
        private static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func member(named name: String) -> String? {
            skipSpace()
            guard current == Self.openBrace else { return nil }
            index += 1
            skipSpace()
            if current == Self.closeBrace { return nil }
            var found: String?
            while true {
                skipSpace()
                guard current == Self.quote, let key = stringToken() else { return nil }
                skipSpace()
                guard current == Self.colon else { return nil }
                index += 1
                skipSpace()
                if Self.decode(key, in: bytes) == name {
                    found = nil
                    if current == Self.quote {
                        guard let value = stringToken() else { return nil }
                        found = Self.decode(value, in: bytes)
                    }
                }
                guard skipValue() else { return nil }
                if current == Self.closeBrace { return found }
                guard current == Self.comma else { return nil }
                index += 1
            }
        }

        mutating func skipSpace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        /// Moves past the string that starts at the cursor; the range of its text with its quotes, nil when it
        /// does not end.
        mutating func stringToken() -> Range<Int>? {
            let start = index
            index += 1
            while index < bytes.count {
                switch bytes[index] {
                case Self.backslash: index += 2
                case Self.quote:
                    index += 1
                    return start..<index
                default: index += 1
                }
            }
            return nil
        }

        /// Moves to the `,` or `}` that ends the member value at the cursor; false when the text ends first.
        mutating func skipValue() -> Bool {
            var depth = 0
            while let byte = current {
                switch byte {
                case Self.quote:
                    guard stringToken() != nil else { return false }
                    continue
                case Self.openBrace, Self.openBracket: depth += 1
                case Self.closeBrace, Self.closeBracket:
                    if depth == 0 { return true }
                    depth -= 1
                case Self.comma where depth == 0: return true
                default: break
                }
                index += 1
            }
            return false
        }

        /// A string token's value: as it is when it has no escapes, else through the JSON parser (one string).
        static func decode(_ token: Range<Int>, in bytes: UnsafeRawBufferPointer) -> String? {
            let inner = bytes[(token.lowerBound + 1)..<(token.upperBound - 1)]
            if !inner.contains(backslash) { return String(validating: inner, as: UTF8.self) }
            return (try? JSON(parsing: bytes[token]))?.string
        }
    }
}
