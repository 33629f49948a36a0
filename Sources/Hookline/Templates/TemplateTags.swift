/// A template's tags as the budget needs them: how long its sections are, and which tags it may not use.
/// Read byte by byte, where the template library reads by grapheme cluster: wherever the two could disagree
/// (a non-ASCII byte beside a brace, which a cluster would join to it), the answer is the cautious one.
enum TemplateTags {
    /// The length of the longest section body (`{{#…}}` or `{{^…}}` to its `{{/…}}`); the whole text's when
    /// the sections cannot be told apart this simply (a set-delimiter tag, unbalanced tags, a brace beside a
    /// non-ASCII byte), and at least 1.
    static func longestSection(_ text: String) -> Int {
        let bytes = Array(text.utf8)
        let whole = max(1, bytes.count)
        if bracesTouchNonASCII(bytes) { return whole }
        var opened: [Int] = []
        var longest = 1
        var index = 0
        while let tag = nextTag(in: bytes, from: index) {
            index = tag.end
            switch tag.sigil {
            case UInt8(ascii: "="): return whole
            case UInt8(ascii: "#"), UInt8(ascii: "^"): opened.append(tag.end)
            case UInt8(ascii: "/"):
                guard let body = opened.popLast() else { return whole }
                longest = max(longest, tag.start - body)
            default: break
            }
        }
        return opened.isEmpty ? longest : whole
    }

    /// The first partial, parent or block tag (`{{>…}}`, `{{<…}}`, `{{$…}}`), which templates may not use:
    /// there is no library of templates to include, and a block's indentation repeats on every line of it,
    /// output no section's rounds account for.
    static func unsupported(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        while let tag = nextTag(in: bytes, from: index) {
            index = tag.end
            if [UInt8(ascii: ">"), UInt8(ascii: "<"), UInt8(ascii: "$")].contains(tag.sigil) {
                return "{{" + String(UnicodeScalar(tag.sigil))
            }
        }
        return nil
    }

    /// A tag: where it starts, its sigil (the byte after `{{`), and where the text after it starts. An unclosed
    /// tag ends the text.
    private static func nextTag(in bytes: [UInt8], from start: Int) -> (start: Int, sigil: UInt8, end: Int)? {
        let open = UInt8(ascii: "{")
        let close = UInt8(ascii: "}")
        var index = start
        while index + 1 < bytes.count {
            guard bytes[index] == open, bytes[index + 1] == open else {
                index += 1
                continue
            }
            let sigil = index + 2 < bytes.count ? bytes[index + 2] : 0
            // A triple mustache closes with three braces, every other tag with two.
            let closing = sigil == open ? 3 : 2
            var end = index + 2
            while end + closing <= bytes.count, !bytes[end..<end + closing].allSatisfy({ $0 == close }) {
                end += 1
            }
            guard end + closing <= bytes.count else { return nil }
            return (index, sigil, end + closing)
        }
        return nil
    }

    /// Whether a non-ASCII byte stands right before or after a brace: a grapheme cluster may then hold the
    /// brace, which the template library would not read as one.
    private static func bracesTouchNonASCII(_ bytes: [UInt8]) -> Bool {
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") {
            if index > 0, bytes[index - 1] >= 0x80 { return true }
            if index + 1 < bytes.count, bytes[index + 1] >= 0x80 { return true }
        }
        return false
    }
}
