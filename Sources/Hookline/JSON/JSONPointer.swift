/// A JSON Pointer (RFC 6901): `""` is the whole document, `/a/0/b~1c` walks into it.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public let tokens: [String]
    public let description: String

    /// Parses a pointer; nil when it is not one (not empty and not starting with `/`, or a `~` not followed
    /// by `0` or `1`).
    ///
    /// The RFC's grammar is of code points, so the text is read scalar by scalar: read as Swift characters, a
    /// combining mark after `/` or `~` would join it into one character and hide it.
    public init?(_ text: String) {
        let scalars = text.unicodeScalars
        guard scalars.isEmpty || scalars.first == "/" else { return nil }
        var tokens: [String] = []
        if !scalars.isEmpty {
            for raw in scalars.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                var token = String.UnicodeScalarView()
                var iterator = raw.makeIterator()
                while let scalar = iterator.next() {
                    guard scalar == "~" else {
                        token.append(scalar)
                        continue
                    }
                    switch iterator.next() {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: return nil
                    }
                }
                tokens.append(String(token))
            }
        }
        self.tokens = tokens
        self.description = text
    }

    /// A token as a pointer spells it, `~` as `~0` and `/` as `~1`, scalar by scalar: replacing characters, a
    /// `~` or `/` followed by a combining mark would be one character and stay as it was.
    public static func escape(_ token: String) -> String {
        var text = String.UnicodeScalarView()
        for scalar in token.unicodeScalars {
            switch scalar {
            case "~": text.append(contentsOf: "~0".unicodeScalars)
            case "/": text.append(contentsOf: "~1".unicodeScalars)
            default: text.append(scalar)
            }
        }
        return String(text)
    }

    /// The value the pointer names in `document`, or nil when there is none.
    public func resolve(in document: JSON) -> JSON? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                // An index is digits without leading zeros ("0" itself excepted).
                guard let index = Int(token), token == String(index), index >= 0, index < array.count else {
                    return nil
                }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }
}
