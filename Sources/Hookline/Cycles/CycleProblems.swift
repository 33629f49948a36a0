/// Everything wrong with a definition.
public struct CycleProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [CycleProblem]
    public var description: String {
        "the cycle definition has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
            + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
