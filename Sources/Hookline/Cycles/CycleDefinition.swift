/// A cycle's definition: its steps, retry policy and error handling, parsed and checked.
///
/// The JSON format (documented in docs/cycles.md):
/// ```json
/// {"name": "orders-to-crm", "description": "Sends each order to the CRM.", "on_error": "retry",
///  "retry": {"max_attempts": 6, "backoff_seconds": 5, "max_backoff_seconds": 3600},
///  "steps": [{"id": "orders", "type": "filter", "path": "/type", "equals": "order.created"}, …]}
/// ```
public struct CycleDefinition: Sendable, Hashable {
    public var name: String
    public var retry: RetryPolicy
    public var onError: OnError
    public var steps: [Step]
    /// What the cycle does, in a sentence or two: an MCP tool's description.
    public var description: String? = nil
    /// The arguments the cycle takes when an MCP server offers it as a tool, checked on every call; nil takes
    /// any object.
    public var inputSchema: JSONSchema? = nil

    /// What a failed step does to its job: retry it, stop the job (dead), or ignore the failure and go on.
    public enum OnError: String, Sendable, Hashable, CaseIterable {
        /// Fail the attempt: the job is retried after the backoff, resuming at the failed step.
        case retry
        /// Skip the failed step and go on with the next.
        case ignore
        /// End the job as dead.
        case stop
    }

    public struct Step: Sendable, Hashable {
        public var id: String
        public var action: Action
    }

    /// Where a pointer looks: the payload, or an earlier step's output.
    public enum Source: Sendable, Hashable {
        case payload
        case step(String)
    }

    public enum Action: Sendable, Hashable {
        case filter(Filter)
        case map(fields: [String: Value])
        /// One child job per element of the array at the pointer; more than `maxItems` elements end the job
        /// `dead` instead.
        case split(Source, JSONPointer, maxItems: Int)
        case http(HTTPCall)
        case store(key: Template, value: Value)
        case delay(seconds: Double)

        public var type: StepType {
            switch self {
            case .filter: .filter
            case .map: .map
            case .split: .split
            case .http: .http
            case .store: .store
            case .delay: .delay
            }
        }
    }

    public struct Filter: Sendable, Hashable {
        public var source: Source
        public var pointer: JSONPointer
        public var condition: Condition

        public enum Condition: Sendable, Hashable {
            case equals(JSON)
            case notEquals(JSON)
            case exists(Bool)
            case oneOf([JSON])
            case greaterThan(Double)
            case greaterThanOrEqual(Double)
            case lessThan(Double)
            case lessThanOrEqual(Double)
        }
    }

    /// A value a step builds: read through a pointer, given literally, rendered from a template, or looked up
    /// among the values kept by `store` steps.
    public indirect enum Value: Sendable, Hashable {
        case pointer(Source, JSONPointer)
        case literal(JSON)
        case template(Template)
        case lookup(Template)
        /// An object or array whose strings are templates (an `http` step's `body`).
        case structure(JSON)
    }

    public struct HTTPCall: Sendable, Hashable {
        public var method: String
        public var url: Template
        public var headers: [String: Template]
        public var body: Value?
        public var timeoutSeconds: Double

        /// The methods that carry a body: without `body`, `body_from` or `body_template` they send the payload.
        public static let bodyMethods: Set = ["POST", "PUT", "PATCH"]
    }

    /// A `split` step's `max_items` when it gives none.
    public static let defaultSplitMaxItems = 10_000
    /// The most a `split` step's `max_items` may be, and the most the `max_items` of a cycle's splits may come to
    /// multiplied together (a split after another runs in each of its children).
    public static let splitMaxItemsLimit = 100_000
    /// The most steps a new cycle may have (versions saved before the rule are read as saved). A step can nest
    /// an earlier output one level deeper, so this also bounds how deep the outputs of such cycles go
    /// (``CycleInterpreter/maxOutputDepth``); a longer saved one whose outputs nest deeper fails its jobs with
    /// that reason on resume, rather than losing its outputs.
    public static let maxSteps = 100

    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    static let conditions = ["equals", "not_equals", "exists", "in", "gt", "gte", "lt", "lte"]
}

extension CycleDefinition {
    /// Parses and checks a new definition, to be saved, reporting every problem at once.
    public static func parse(_ bytes: [UInt8]) -> Result<CycleDefinition, CycleProblems> {
        parse(bytes, saving: true)
    }

    /// Reads a saved version, by the rules it was saved under: the rules added since refuse new definitions only
    /// (``CycleDefinitionParser/saving``), so that an upgrade does not fail the jobs of cycles saved before it.
    public static func parse(saved bytes: [UInt8]) -> Result<CycleDefinition, CycleProblems> {
        parse(bytes, saving: false)
    }

    private static func parse(_ bytes: [UInt8], saving: Bool) -> Result<CycleDefinition, CycleProblems> {
        guard let json = try? JSON(parsing: bytes) else {
            return .failure(CycleProblems(problems: [CycleProblem(location: "", message: "not valid JSON")]))
        }
        var parser = CycleDefinitionParser()
        parser.saving = saving
        let definition = parser.definition(json)
        if let definition, parser.problems.isEmpty { return .success(definition) }
        return .failure(CycleProblems(problems: parser.problems))
    }
}
