import Foundation

/// An `application/x-www-form-urlencoded` body, parsed strictly for OAuth (RFC 6749 §3.2, Appendix B).
///
/// A parameter sent twice is an error, and one sent without a value counts as omitted (RFC 6749 §3.1).
public struct FormBody: Sendable {
    public enum ParseError: Error, Equatable {
        case repeated(String)
        case malformed
    }

    public private(set) var values: [String: String] = [:]

    public subscript(name: String) -> String? { values[name] }

    public init(_ text: Substring) throws(ParseError) {
        var seen = Set<String>()
        // Split at the bytes `&` and `=`, as the format says: split at characters, a combining mark after either
        // would join it into one character and hide it.
        for pair in text.utf8.split(separator: UInt8(ascii: "&")) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            guard let name = Self.decode(Substring(pair[..<(equals ?? pair.endIndex)])) else { throw .malformed }
            var value = ""
            if let equals {
                guard let decoded = Self.decode(Substring(pair[pair.index(after: equals)...])) else {
                    throw .malformed
                }
                value = decoded
            }
            guard seen.insert(name).inserted else { throw .repeated(name) }
            if !value.isEmpty { values[name] = value }
        }
    }

    public init(bytes: [UInt8]) throws(ParseError) {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformed }
        try self.init(Substring(text))
    }

    /// Percent-decoding with `+` as space; `nil` for a bad escape or invalid UTF-8.
    public static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Data.hexDigit),
                    let low = iterator.next().flatMap(Data.hexDigit)
                else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
