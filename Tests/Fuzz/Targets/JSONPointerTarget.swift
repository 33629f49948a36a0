import Hookline

extension FuzzTarget {
    /// JSON Pointers (RFC 6901), which cycle definitions hold. Input: options (bit 0: the first field is a
    /// pointer's text; else its tokens, separated by SOH bytes, to escape), then the pointer and a JSON document
    /// to resolve it in, separated by NUL.
    ///
    /// Properties: nothing crashes; a pointer that parses is its tokens escaped again (`~` as `~0`, `/` as
    /// `~1`: the RFC's grammar has one spelling for each token), and escaped tokens parse back as themselves.
    static let jsonPointer = FuzzTarget(name: "json-pointer") { bytes in
        let input = FuzzInput(bytes, fields: 2)
        let document = (try? JSON(parsing: input.fields[1])) ?? .object(["a": .array([.int(1), .string("b")])])
        let text: String
        if input.bit(0) {
            text = input.text(0)
            guard let pointer = JSONPointer(text) else { return nil }
            _ = pointer.resolve(in: document)
            let spelled = escape(pointer.tokens)
            return spelled == text ? nil : "\(text.debugDescription) parsed as \(pointer.tokens), which is \(spelled)"
        }
        let tokens = input.fields[0].split(separator: 1, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        text = escape(tokens)
        guard let pointer = JSONPointer(text), pointer.tokens == tokens else {
            return "\(tokens) escaped as \(text.debugDescription) do not parse back"
        }
        _ = pointer.resolve(in: document)
        return nil
    }

    /// The pointer's text, escaped scalar by scalar (the RFC's grammar is of code points, not characters).
    static func escape(_ tokens: [String]) -> String {
        var text = ""
        for token in tokens {
            text += "/"
            for scalar in token.unicodeScalars {
                switch scalar {
                case "~": text += "~0"
                case "/": text += "~1"
                default: text.unicodeScalars.append(scalar)
                }
            }
        }
        return text
    }
}
