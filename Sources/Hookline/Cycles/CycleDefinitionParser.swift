/// Reads a cycle definition's JSON into a CycleDefinition, collecting every problem with its location;
/// the readers of each step type are in CycleDefinitionParser+Steps.swift.
struct CycleDefinitionParser {
    var problems: [CycleProblem] = []
    /// Ids of the steps before the one being read.
    var earlier: [String] = []
    var all: Set<String> = []
    /// Whether the definition is new, to be saved. The rules added after versions were first saved (at most
    /// ``CycleDefinition/maxSteps`` steps, splits whose `max_items` multiply to at most
    /// ``CycleDefinition/splitMaxItemsLimit``, header names that are HTTP tokens) refuse a new definition but
    /// not a saved version, whose jobs, queued or to come, must still run as before. (The refusal of template
    /// partials, parents and blocks is not among them: a block's indentation escapes the template budget, so
    /// a saved version with one is refused too, and its jobs fail with the reason.)
    var saving = true
    /// The longest backoff and delay: 30 days.
    static let maxBackoffSeconds: Double = 86_400 * 30

    mutating func problem(_ location: String, _ message: String) {
        problems.append(CycleProblem(location: location, message: message))
    }

    mutating func definition(_ json: JSON) -> CycleDefinition? {
        guard let root = json.object else {
            problem("", "a cycle definition must be a JSON object")
            return nil
        }
        let known: Set = ["name", "description", "input_schema", "retry", "on_error", "steps"]
        for key in root.keys.sorted() where !known.contains(key) { problem("/\(escape(key))", "unknown key") }
        let name = root["name"]?.string ?? ""
        if name.isEmpty { problem("/name", "a cycle needs a non-empty \"name\"") }
        var description: String?
        if let value = root["description"] {
            description = value.string
            if description == nil { problem("/description", "must be a string") }
        }
        var inputSchema: JSONSchema?
        if let value = root["input_schema"] { inputSchema = self.inputSchema(value) }
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
            if saving, list.count > CycleDefinition.maxSteps {
                problem("/steps", "a cycle has at most \(CycleDefinition.maxSteps) steps")
            }
            let ids = list.compactMap { $0["id"]?.string }
            all = Set(ids)
            var fanOut = FanOut()
            for (index, item) in list.enumerated() {
                if let step = step(item, at: "/steps/\(index)") {
                    steps.append(step)
                    if saving, case .split(_, _, let maxItems) = step.action, let jobs = fanOut.add(maxItems) {
                        problem(
                            "/steps/\(index)/max_items",
                            "with the splits before it, one delivery could make \(jobs) jobs; the max_items of a"
                                + " cycle's splits multiplied together must be at most"
                                + " \(CycleDefinition.splitMaxItemsLimit)")
                    }
                }
                if let id = item["id"]?.string { earlier.append(id) }
            }
        default:
            problem("/steps", "must be an array of steps")
        }
        return CycleDefinition(
            name: name, retry: retry, onError: onError, steps: steps, description: description,
            inputSchema: inputSchema)
    }

    /// The arguments an MCP tool of this cycle takes: a JSON Schema whose root is `"type": "object"`.
    mutating func inputSchema(_ json: JSON) -> JSONSchema? {
        do throws(JSONSchemaProblems) {
            return try JSONSchema(toolInput: json)
        } catch {
            for found in error.problems { problem("/input_schema\(found.location)", found.message) }
            return nil
        }
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
        // At most 30 days, as a delay step: PostgreSQL's now() plus some 10¹³ seconds overflows, and the
        // failure that set such a backoff could not be recorded.
        if let value = object["backoff_seconds"] {
            if let seconds = bounded(value.number), (0...Self.maxBackoffSeconds).contains(seconds) {
                policy.backoffSeconds = seconds
            } else {
                problem("/retry/backoff_seconds", "must be a number of seconds from 0 to 2592000 (30 days)")
            }
        }
        if let value = object["max_backoff_seconds"] {
            if let seconds = bounded(value.number), (0...Self.maxBackoffSeconds).contains(seconds) {
                policy.maxBackoffSeconds = seconds
            } else {
                problem("/retry/max_backoff_seconds", "must be a number of seconds from 0 to 2592000 (30 days)")
            }
        }
        return policy
    }

    /// A number of seconds as a backoff or delay: a saved version's past 30 days (saved before the bound) is
    /// read as 30 days, which it would have waited at most all the same; a new definition's is refused.
    func bounded(_ seconds: Double?) -> Double? {
        guard let seconds, !saving, seconds > Self.maxBackoffSeconds else { return seconds }
        return Self.maxBackoffSeconds
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
        guard let name = object["type"]?.string else {
            problem("\(location)/type", "a step needs a \"type\": one of \(StepType.list)")
            return nil
        }
        guard let type = StepType(rawValue: name) else {
            problem("\(location)/type", "unknown step type \"\(name)\"; one of \(StepType.list)")
            return nil
        }
        let action: CycleDefinition.Action? =
            switch type {
            case .filter: filter(object, at: location)
            case .map: map(object, at: location)
            case .split: split(object, at: location)
            case .http: http(object, at: location)
            case .store: store(object, at: location)
            case .delay: delay(object, at: location)
            }
        for key in object.keys.sorted() where !(["id", "type", "description"].contains(key)) {
            if !type.fields.contains(key) {
                problem("\(location)/\(escape(key))", "unknown key for a \(name) step")
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

    func escape(_ key: String) -> String { JSONPointer.escape(key) }
}
