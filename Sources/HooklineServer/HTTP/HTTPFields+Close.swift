import HTTPTypes

extension HTTPFields {
    /// Whether the `Connection` field lists `close`: a token of a comma-separated list, in any case (RFC 9110
    /// §7.6.1). It runs for every request, so it looks at the bytes without making anything.
    var asksToClose: Bool {
        guard let value = self[.connection] else { return false }
        if value == "close" { return true }
        let bytes = value.utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: ",")) ?? bytes.endIndex
            var token = bytes[start..<end]
            while let first = token.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                token = token.dropFirst()
            }
            while let last = token.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
                token = token.dropLast()
            }
            // ASCII letters compared without regard to case: `close` has no other bytes.
            if token.elementsEqual("close".utf8, by: { $0 | 0x20 == $1 }) { return true }
            start = end == bytes.endIndex ? end : bytes.index(after: end)
        }
        return false
    }
}
