/// One thing wrong at a place in a JSON document, named by a JSON Pointer: a problem in a schema found when it
/// is parsed, or a way a value fails a ``JSONSchema``.
public struct JSONIssue: Sendable, Hashable, CustomStringConvertible {
    /// The place in the document; `""` is the document itself.
    public var location: JSONPointer
    public var message: String

    public init(location: JSONPointer, message: String) {
        self.location = location
        self.message = message
    }

    /// `/quantity: must be at most 10`; the document itself is shown as `/`.
    public var description: String {
        "\(location.description.isEmpty ? "/" : location.description): \(message)"
    }
}
