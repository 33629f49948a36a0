import Foundation

/// A cycle as an MCP server offers it: a tool named after the cycle, described by the definition's
/// `description`, taking the arguments its `input_schema` allows.
public struct MCPTool: Sendable, Hashable {
    public var cycleID: UUID
    /// The cycle's name, which is the tool's.
    public var name: String
    /// The cycle's current definition.
    public var definition: CycleDefinition

    /// The tools every server offers besides its cycles, which no cycle of a server may be named as.
    public static let jobToolNames: Set = ["get_job", "list_jobs", "queue_stats", "retry_job", "cancel_job"]

    public init(cycleID: UUID, name: String, definition: CycleDefinition) {
        self.cycleID = cycleID
        self.name = name
        self.definition = definition
    }

    /// What `tools/list` shows: the definition's description, or a sentence naming the cycle.
    public var description: String {
        if let text = definition.description, !text.isEmpty { return text }
        return "Runs the cycle \(name) on the arguments and answers with its last step's output."
    }

    /// The input schema `tools/list` shows: the definition's, else any object.
    public var inputSchema: JSON {
        definition.inputSchema?.json ?? .object(["type": .string("object")])
    }
}
