/// A JSON Pointer (RFC 6901): `""` is the whole document, `/a/0/b~1c` walks into it.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public let tokens: [String]
    public let description: String

    /// Parses a pointer; nil when it is not one (not empty and not starting with `/`, or a `~` not followed
    /// by `0` or `1`).
    public init?(_ text: String) {
        guard text.isEmpty || text.hasPrefix("/") else { return nil }
        var tokens: [String] = []
        if !text.isEmpty {
            for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                var token = ""
                var iterator = raw.makeIterator()
                while let character = iterator.next() {
                    guard character == "~" else {
                        token.append(character)
                        continue
                    }
                    switch iterator.next() {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: return nil
                    }
                }
                tokens.append(token)
            }
        }
        self.tokens = tokens
        self.description = text
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
