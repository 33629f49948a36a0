/// One way a value fails a ``JSONSchema``: where in the value (a JSON Pointer), and what is wrong.
public struct JSONSchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// The place in the checked value; `""` is the value itself.
    public var location: JSONPointer
    public var message: String

    public init(location: JSONPointer, message: String) {
        self.location = location
        self.message = message
    }

    /// `/quantity: must be at most 10`; the value itself is shown as `/`.
    public var description: String {
        "\(location.description.isEmpty ? "/" : location.description): \(message)"
    }
}
