import Hookline

/// `application/x-www-form-urlencoded` read the slow, obvious way, byte by byte, with FormBody's strictness
/// (a body that is not UTF-8 or a bad `%` escape is malformed, a repeated name an error, an empty value
/// omitted).
enum FormReference {
    static func parse(_ bytes: [UInt8]) -> Result<[String: String], FormBody.ParseError> {
        guard String(validating: bytes, as: UTF8.self) != nil else { return .failure(.malformed) }
        var values: [String: String] = [:]
        var seen = Set<String>()
        for pair in bytes.split(separator: UInt8(ascii: "&")) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            guard let name = decode(pair[..<(equals ?? pair.endIndex)]),
                let value = equals.map({ decode(pair[($0 + 1)...]) }) ?? ""
            else { return .failure(.malformed) }
            guard seen.insert(name).inserted else { return .failure(.repeated(name)) }
            if !value.isEmpty { values[name] = value }
        }
        return .success(values)
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]),
                    let low = hexValue(bytes[index + 2])
                else { return nil }
                out.append(high * 16 + low)
                index += 3
            } else {
                out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        let digits = Array("0123456789abcdef".utf8)
        let lower = (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) ? byte + 32 : byte
        return digits.firstIndex(of: lower).map(UInt8.init)
    }

    /// Percent-encodes every byte but the unreserved ones.
    static func encode(_ text: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
