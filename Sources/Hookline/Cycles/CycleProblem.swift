/// One thing wrong with a definition, and where: a JSON Pointer into the definition.
public struct CycleProblem: Sendable, Hashable, CustomStringConvertible, Encodable {
    public var location: String
    public var message: String
    public var description: String { "\(location.isEmpty ? "(top)" : location): \(message)" }
}
