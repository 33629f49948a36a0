/// Everything wrong with a schema: what ``JSONSchema/init(_:)`` throws.
public struct JSONSchemaProblems: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [JSONIssue]

    public init(problems: [JSONIssue]) {
        self.problems = problems
    }

    public var description: String {
        "the schema has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
            + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
