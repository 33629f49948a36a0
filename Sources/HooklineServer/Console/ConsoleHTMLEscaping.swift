import Mustache

/// How the console's templates escape what they show: `<`, `>`, `&`, `"` and `'` as character references,
/// wherever they stand.
///
/// The template library's own HTML escaping looks characters up by grapheme cluster, and a cluster that holds
/// one of these beside another code point is not that character: U+0600 (a prepended mark) before `<`, or a
/// combining mark after it, let a webhook sender's `<meta …>` reach an operator's browser as markup. This
/// escapes by byte: the five are ASCII, and no other UTF-8 byte is ASCII.
struct ConsoleHTMLEscaping: MustacheContentType {
    /// The name templates give in their `CONTENT_TYPE` pragma.
    static let name = "HOOKLINE_HTML"

    func escapeText(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: Self.isSpecial) else { return text }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "<"): escaped.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): escaped.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "&"): escaped.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "\""): escaped.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): escaped.append(contentsOf: "&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    private static func isSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }
}
