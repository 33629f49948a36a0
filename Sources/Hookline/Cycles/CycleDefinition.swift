import Foundation

/// A cycle's definition: its steps, retry policy and error handling, parsed and checked.
///
/// The JSON format (documented in the README):
/// ```json
/// {"name": "orders-to-crm", "on_error": "retry",
///  "retry": {"max_attempts": 6, "backoff_seconds": 5, "max_backoff_seconds": 3600},
///  "steps": [{"id": "orders", "type": "filter", "path": "/type", "equals": "order.created"}, …]}
/// ```
public struct CycleDefinition: Sendable, Hashable {
    public var name: String
    public var retry: RetryPolicy
    public var onError: OnError
    public var steps: [Step]

    /// What a failed step does to its job (Cyclr's "On Step Error").
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
        case split(Source, JSONPointer)
        case http(HTTPCall)
        case store(key: Template, value: Value)
        case delay(seconds: Double)

        public var type: String {
            switch self {
            case .filter: "filter"
            case .map: "map"
            case .split: "split"
            case .http: "http"
            case .store: "store"
            case .delay: "delay"
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
    }

    public static let stepTypes = ["filter", "map", "split", "http", "store", "delay"]
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    static let conditions = ["equals", "not_equals", "exists", "in", "gt", "gte", "lt", "lte"]
}

/// One thing wrong with a definition, and where: a JSON Pointer into the definition.
public struct CycleProblem: Sendable, Hashable, CustomStringConvertible, Encodable {
    public var location: String
    public var message: String
    public var description: String { "\(location.isEmpty ? "(top)" : location): \(message)" }
}

extension CycleDefinition {
    /// Parses and checks a definition, reporting every problem at once.
    public static func parse(_ bytes: [UInt8]) -> Result<CycleDefinition, CycleProblems> {
        guard let json = try? JSON(parsing: bytes) else {
            return .failure(CycleProblems(problems: [CycleProblem(location: "", message: "not valid JSON")]))
        }
        var parser = Parser()
        let definition = parser.definition(json)
        if let definition, parser.problems.isEmpty { return .success(definition) }
        return .failure(CycleProblems(problems: parser.problems))
    }
}

/// Everything wrong with a definition.
public struct CycleProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [CycleProblem]
    public var description: String {
        "the cycle definition has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
            + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

private struct Parser {
    var problems: [CycleProblem] = []
    /// Ids of the steps before the one being read.
    var earlier: [String] = []
    var all: Set<String> = []

    mutating func problem(_ location: String, _ message: String) {
        problems.append(CycleProblem(location: location, message: message))
    }

    mutating func definition(_ json: JSON) -> CycleDefinition? {
        guard let root = json.object else {
            problem("", "a cycle definition must be a JSON object")
            return nil
        }
        let known: Set = ["name", "retry", "on_error", "steps", "description"]
        for key in root.keys.sorted() where !known.contains(key) { problem("/\(escape(key))", "unknown key") }
        let name = root["name"]?.string ?? ""
        if name.isEmpty { problem("/name", "a cycle needs a non-empty \"name\"") }
        let retry = retryPolicy(root["retry"])
        var onError = CycleDefinition.OnError.retry
        if let value = root["on_error"] {
            if let text = value.string, let parsed = CycleDefinition.OnError(rawValue: text) {
                onError = parsed
            } else {
                problem("/on_error", "must be one of retry, ignore, stop")
            }
        }
        var steps: [CycleDefinition.Step] = []
        switch root["steps"] {
        case nil:
            break
        case .array(let list)?:
            let ids = list.compactMap { $0["id"]?.string }
            all = Set(ids)
            for (index, item) in list.enumerated() {
                if let step = step(item, at: "/steps/\(index)") { steps.append(step) }
                if let id = item["id"]?.string { earlier.append(id) }
            }
        default:
            problem("/steps", "must be an array of steps")
        }
        return CycleDefinition(name: name, retry: retry, onError: onError, steps: steps)
    }

    mutating func retryPolicy(_ json: JSON?) -> RetryPolicy {
        var policy = RetryPolicy.default
        guard let json else { return policy }
        guard let object = json.object else {
            problem("/retry", "must be an object")
            return policy
        }
        for key in object.keys.sorted()
        where !["max_attempts", "backoff_seconds", "max_backoff_seconds"].contains(key) {
            problem("/retry/\(escape(key))", "unknown key")
        }
        if let value = object["max_attempts"] {
            if case .int(let attempts) = value, attempts >= 1, attempts <= 1000 {
                policy.maxAttempts = Int(attempts)
            } else {
                problem("/retry/max_attempts", "must be a whole number from 1 to 1000")
            }
        }
        if let value = object["backoff_seconds"] {
            if let seconds = value.number, seconds >= 0 {
                policy.backoffSeconds = seconds
            } else {
                problem("/retry/backoff_seconds", "must be a number of seconds, 0 or more")
            }
        }
        if let value = object["max_backoff_seconds"] {
            if let seconds = value.number, seconds >= 0 {
                policy.maxBackoffSeconds = seconds
            } else {
                problem("/retry/max_backoff_seconds", "must be a number of seconds, 0 or more")
            }
        }
        return policy
    }

    mutating func step(_ json: JSON, at location: String) -> CycleDefinition.Step? {
        guard let object = json.object else {
            problem(location, "a step must be an object")
            return nil
        }
        let id = object["id"]?.string ?? ""
        if id.isEmpty {
            problem("\(location)/id", "a step needs a non-empty \"id\"")
        } else if earlier.contains(id) {
            problem("\(location)/id", "duplicate step id \"\(id)\"")
        } else if id.contains(where: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
            problem("\(location)/id", "a step id may hold letters, digits, _ and - only")
        }
        guard let type = object["type"]?.string else {
            problem(
                "\(location)/type",
                "a step needs a \"type\": one of \(CycleDefinition.stepTypes.joined(separator: ", "))")
            return nil
        }
        let action: CycleDefinition.Action?
        switch type {
        case "filter": action = filter(object, at: location)
        case "map": action = map(object, at: location)
        case "split": action = split(object, at: location)
        case "http": action = http(object, at: location)
        case "store": action = store(object, at: location)
        case "delay": action = delay(object, at: location)
        default:
            problem(
                "\(location)/type",
                "unknown step type \"\(type)\"; one of \(CycleDefinition.stepTypes.joined(separator: ", "))")
            return nil
        }
        let allowed: [String: Set<String>] = [
            "filter": Set(["path", "from"] + CycleDefinition.conditions),
            "map": ["fields"], "split": ["path", "from"],
            "http": ["method", "url", "headers", "body", "body_from", "body_template", "timeout_seconds"],
            "store": ["key", "value", "value_from"], "delay": ["seconds"],
        ]
        for key in object.keys.sorted() where !(["id", "type", "description"].contains(key)) {
            if !(allowed[type]?.contains(key) ?? false) {
                problem("\(location)/\(escape(key))", "unknown key for a \(type) step")
            }
        }
        return action.map { CycleDefinition.Step(id: id, action: $0) }
    }

    mutating func source(_ object: [String: JSON], key: String = "from", at location: String) -> CycleDefinition.Source
    {
        guard let value = object[key] else { return .payload }
        guard let id = value.string else {
            problem("\(location)/\(key)", "must name an earlier step")
            return .payload
        }
        if id == "payload" { return .payload }
        checkReference(id, at: "\(location)/\(key)")
        return .step(id)
    }

    mutating func checkReference(_ id: String, at location: String) {
        if earlier.contains(id) { return }
        if all.contains(id) {
            problem(location, "step \"\(id)\" comes later: a step can only use the steps before it")
        } else {
            problem(location, "no step \"\(id)\"")
        }
    }

    mutating func pointer(_ json: JSON?, at location: String, required: Bool = true) -> JSONPointer? {
        guard let json else {
            if required { problem(location, "required: a JSON Pointer such as \"/data/id\"") }
            return nil
        }
        guard let text = json.string, let pointer = JSONPointer(text) else {
            problem(location, "not a JSON Pointer (RFC 6901): \"\" or \"/a/b\", with ~0 for ~ and ~1 for /")
            return nil
        }
        return pointer
    }

    mutating func template(_ json: JSON?, at location: String) -> Template? {
        guard let text = json?.string else {
            problem(location, "required: a string (a Mustache template)")
            return nil
        }
        do {
            let template = try Template(text)
            for id in template.stepReferences { checkReference(id, at: location) }
            return template
        } catch {
            problem(location, "the template does not parse: \(error)")
            return nil
        }
    }

    mutating func filter(_ object: [String: JSON], at location: String) -> CycleDefinition.Action? {
        let source = source(object, at: location)
        let pointer = pointer(object["path"], at: "\(location)/path")
        let given = CycleDefinition.conditions.filter { object[$0] != nil }
        guard given.count == 1, let key = given.first, let value = object[key] else {
            problem(location, "a filter needs exactly one of \(CycleDefinition.conditions.joined(separator: ", "))")
            return nil
        }
        let condition: CycleDefinition.Filter.Condition
        switch key {
        case "equals": condition = .equals(value)
        case "not_equals": condition = .notEquals(value)
        case "exists":
            guard case .bool(let flag) = value else {
                problem("\(location)/exists", "must be true or false")
                return nil
            }
            condition = .exists(flag)
        case "in":
            guard let list = value.array else {
                problem("\(location)/in", "must be an array of values")
                return nil
            }
            condition = .oneOf(list)
        default:
            guard let number = value.number else {
                problem("\(location)/\(key)", "must be a number")
                return nil
            }
            condition =
                switch key {
                case "gt": .greaterThan(number)
                case "gte": .greaterThanOrEqual(number)
                case "lt": .lessThan(number)
                default: .lessThanOrEqual(number)
                }
        }
        guard let pointer else { return nil }
        return .filter(CycleDefinition.Filter(source: source, pointer: pointer, condition: condition))
    }

    /// A value: "/pointer" (into the payload), a string with {{…}} (a template), another string or any other
    /// JSON (a literal), or an object with exactly one of `pointer` (+ `from`), `value`, `template`, `lookup`.
    mutating func value(_ json: JSON, at location: String) -> CycleDefinition.Value? {
        switch json {
        case .string(let text) where text.hasPrefix("/"):
            return pointer(json, at: location).map { .pointer(.payload, $0) }
        case .string(let text) where text.contains("{{"):
            return template(json, at: location).map { .template($0) }
        case .object(let object):
            let forms = ["pointer", "value", "template", "lookup"].filter { object[$0] != nil }
            guard forms.count == 1 else {
                problem(location, "a value object needs exactly one of pointer, value, template, lookup")
                return nil
            }
            switch forms[0] {
            case "pointer":
                let source = source(object, at: location)
                return pointer(object["pointer"], at: "\(location)/pointer").map { .pointer(source, $0) }
            case "value": return .literal(object["value"]!)
            case "template": return template(object["template"], at: "\(location)/template").map { .template($0) }
            default: return template(object["lookup"], at: "\(location)/lookup").map { .lookup($0) }
            }
        default:
            return .literal(json)
        }
    }

    mutating func map(_ object: [String: JSON], at location: String) -> CycleDefinition.Action? {
        guard let fields = object["fields"]?.object, !fields.isEmpty else {
            problem("\(location)/fields", "a map needs \"fields\": an object of names and values")
            return nil
        }
        var values: [String: CycleDefinition.Value] = [:]
        for (name, json) in fields.sorted(by: { $0.key < $1.key }) {
            if let value = value(json, at: "\(location)/fields/\(escape(name))") { values[name] = value }
        }
        return .map(fields: values)
    }

    mutating func split(_ object: [String: JSON], at location: String) -> CycleDefinition.Action? {
        let source = source(object, at: location)
        return pointer(object["path"], at: "\(location)/path").map { .split(source, $0) }
    }

    mutating func http(_ object: [String: JSON], at location: String) -> CycleDefinition.Action? {
        let method = (object["method"]?.string ?? "POST").uppercased()
        if !CycleDefinition.methods.contains(method) {
            problem("\(location)/method", "must be one of \(CycleDefinition.methods.joined(separator: ", "))")
        }
        let url = template(object["url"], at: "\(location)/url")
        if let url, !url.description.contains("{{") {
            let parsed = URL(string: url.description)
            if parsed?.host == nil || !["http", "https"].contains(parsed?.scheme?.lowercased() ?? "") {
                problem("\(location)/url", "must be an http:// or https:// URL")
            }
        }
        var headers: [String: Template] = [:]
        if let given = object["headers"] {
            if let fields = given.object {
                for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
                    if let template = template(value, at: "\(location)/headers/\(escape(name))") {
                        headers[name] = template
                    }
                }
            } else {
                problem("\(location)/headers", "must be an object of header names and templates")
            }
        }
        var body: CycleDefinition.Value?
        let bodies = ["body", "body_from", "body_template"].filter { object[$0] != nil }
        if bodies.count > 1 {
            problem(location, "give at most one of body, body_from, body_template")
        } else if let form = bodies.first {
            switch form {
            case "body_from":
                if let id = object["body_from"]?.string {
                    checkReference(id, at: "\(location)/body_from")
                    body = .pointer(.step(id), JSONPointer("")!)
                } else {
                    problem("\(location)/body_from", "must name an earlier step")
                }
            case "body_template":
                body = template(object["body_template"], at: "\(location)/body_template").map { .template($0) }
            default:
                let json = object["body"]!
                checkTemplates(in: json, at: "\(location)/body")
                body = .structure(json)
            }
        }
        var timeout = 10.0
        if let value = object["timeout_seconds"] {
            if let seconds = value.number, seconds > 0, seconds <= 300 {
                timeout = seconds
            } else {
                problem("\(location)/timeout_seconds", "must be a number of seconds above 0, at most 300")
            }
        }
        guard let url else { return nil }
        return .http(
            CycleDefinition.HTTPCall(method: method, url: url, headers: headers, body: body, timeoutSeconds: timeout))
    }

    /// Checks every string of a templated structure that looks like a template.
    mutating func checkTemplates(in json: JSON, at location: String) {
        switch json {
        case .string(let text) where text.contains("{{"):
            _ = template(json, at: location)
        case .array(let items):
            for (index, item) in items.enumerated() { checkTemplates(in: item, at: "\(location)/\(index)") }
        case .object(let fields):
            for (key, item) in fields { checkTemplates(in: item, at: "\(location)/\(escape(key))") }
        default:
            break
        }
    }

    mutating func store(_ object: [String: JSON], at location: String) -> CycleDefinition.Action? {
        let key = template(object["key"], at: "\(location)/key")
        var value: CycleDefinition.Value?
        if object["value"] != nil, object["value_from"] != nil {
            problem(location, "give one of value, value_from")
        } else if let id = object["value_from"] {
            if let id = id.string {
                checkReference(id, at: "\(location)/value_from")
                value = .pointer(.step(id), JSONPointer("")!)
            } else {
                problem("\(location)/value_from", "must name an earlier step")
            }
        } else if let json = object["value"] {
            value = self.value(json, at: "\(location)/value")
        } else {
            problem(location, "a store step needs \"value\" or \"value_from\"")
        }
        guard let key, let value else { return nil }
        return .store(key: key, value: value)
    }

    mutating func delay(_ object: [String: JSON], at location: String) -> CycleDefinition.Action? {
        guard let seconds = object["seconds"]?.number, seconds > 0, seconds <= 86_400 * 30 else {
            problem("\(location)/seconds", "a delay needs \"seconds\": a number above 0, at most 30 days")
            return nil
        }
        return .delay(seconds: seconds)
    }

    func escape(_ key: String) -> String { JSONPointer.escape(key) }
}
