/// The kinds of step a cycle is made of: a step's `"type"`.
public enum StepType: String, CaseIterable, Sendable {
    case filter, map, split, http, store, delay

    /// The fields a step of this type may have besides `id`, `type` and `description`.
    var fields: Set<String> {
        switch self {
        case .filter: Set(["path", "from"] + CycleDefinition.conditions)
        case .map: ["fields"]
        case .split: ["path", "from", "max_items"]
        case .http: ["method", "url", "headers", "body", "body_from", "body_template", "timeout_seconds"]
        case .store: ["key", "value", "value_from"]
        case .delay: ["seconds"]
        }
    }

    /// The types, for error messages: `filter, map, …`.
    static var list: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
