/// One thing wrong with a schema, found when it is parsed: where in the schema (a JSON Pointer), and what.
public struct JSONSchemaProblem: Sendable, Hashable, CustomStringConvertible {
    /// The place in the schema; `""` is the schema itself.
    public var location: JSONPointer
    public var message: String

    public init(location: JSONPointer, message: String) {
        self.location = location
        self.message = message
    }

    /// `/properties/qty/minimum: must be a number`; the schema itself is shown as `/`.
    public var description: String {
        "\(location.description.isEmpty ? "/" : location.description): \(message)"
    }
}
