extension CycleDefinition {
    /// What steps read of a job besides its payload, `account_id` and `job_id`: earlier steps' outputs and
    /// the delivery's headers. Found by reading the steps (pointers, `from`, `body_from`, `value_from`, and
    /// the text of every template), erring on the side of reading too much.
    public struct Inputs: Sendable, Hashable {
        /// The ids of the steps whose outputs are read; nil when a template reads `steps` as a whole (a
        /// section over it, say), which reads them all.
        public var steps: Set<String>?
        /// Whether a template reads `headers`.
        public var headers: Bool
    }

    /// What the steps from `index` on read (a `split` copies only that into its children).
    public func inputs(ofStepsFrom index: Int) -> Inputs {
        var inputs = Inputs(steps: [], headers: false)
        for step in steps.dropFirst(index) { inputs.add(step.action) }
        return inputs
    }
}

extension CycleDefinition.Inputs {
    mutating func add(_ action: CycleDefinition.Action) {
        switch action {
        case .filter(let filter): add(filter.source)
        case .map(let fields): fields.values.forEach { add($0) }
        case .split(let source, _, _): add(source)
        case .http(let call):
            add(text: call.url.description)
            call.headers.values.forEach { add(text: $0.description) }
            if let body = call.body { add(body) }
        case .store(let key, let value):
            add(text: key.description)
            add(value)
        case .delay: break
        }
    }

    mutating func add(_ source: CycleDefinition.Source) {
        if case .step(let id) = source { steps?.insert(id) }
    }

    mutating func add(_ value: CycleDefinition.Value) {
        switch value {
        case .pointer(let source, _): add(source)
        case .literal: break
        case .template(let template), .lookup(let template): add(text: template.description)
        case .structure(let json): add(templatesIn: json)
        }
    }

    /// The strings of an `http` step's `body`, each of which is a template.
    mutating func add(templatesIn json: JSON) {
        switch json {
        case .string(let text): add(text: text)
        case .array(let items): items.forEach { add(templatesIn: $0) }
        case .object(let fields): fields.values.forEach { add(templatesIn: $0) }
        default: break
        }
    }

    /// A template's text: `steps.<id>` reads that step's output, `steps` otherwise reads them all, and any
    /// `headers` reads the headers.
    mutating func add(text: String) {
        guard text.contains("{{") else { return }
        if text.contains("headers") { headers = true }
        var rest = Substring(text)
        while let range = rest.range(of: "steps") {
            let after = rest[range.upperBound...]
            let id = after.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
            if after.first == ".", !id.isEmpty {
                steps?.insert(String(id))
            } else {
                steps = nil
            }
            rest = after
        }
    }
}
