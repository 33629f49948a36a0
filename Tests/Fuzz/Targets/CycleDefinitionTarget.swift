import Hookline

extension FuzzTarget {
    /// Cycle definitions, which tenants upload, with their validation. Input: the definition's JSON.
    ///
    /// Properties: nothing crashes; a definition that does not pass says why, and every problem's location is
    /// a JSON Pointer (RFC 6901) that parses; a step's references are to earlier steps.
    static let cycleDefinition = FuzzTarget(name: "cycle-definition") { bytes in
        switch CycleDefinition.parse(bytes) {
        case .failure(let failure):
            if failure.problems.isEmpty { return "refused without a problem" }
            for problem in failure.problems where JSONPointer(problem.location) == nil {
                return "the location \(problem.location.debugDescription) is not a JSON Pointer"
            }
            return nil
        case .success(let definition):
            var earlier: Set<String> = []
            for step in definition.steps {
                if step.id.isEmpty || earlier.contains(step.id) { return "a step id empty or repeated: \(step.id)" }
                for reference in references(step.action) where !earlier.contains(reference) {
                    return "step \(step.id) uses \(reference), which is not an earlier step"
                }
                earlier.insert(step.id)
            }
            return nil
        }
    }

    private static func references(_ action: CycleDefinition.Action) -> [String] {
        func source(_ source: CycleDefinition.Source) -> [String] {
            if case .step(let id) = source { return [id] }
            return []
        }
        func value(_ value: CycleDefinition.Value?) -> [String] {
            switch value {
            case .pointer(let from, _): source(from)
            case .template(let template), .lookup(let template): template.stepReferences
            case .structure(let json): templates(in: json).flatMap(\.stepReferences)
            default: []
            }
        }
        switch action {
        case .filter(let filter): return source(filter.source)
        case .map(let fields): return fields.values.flatMap { value($0) }
        case .split(let from, _, _): return source(from)
        case .http(let call):
            return call.url.stepReferences + call.headers.values.flatMap(\.stepReferences) + value(call.body)
        case .store(let key, let stored): return key.stepReferences + value(stored)
        case .delay: return []
        }
    }

    /// The templates of an `http` body: its strings that hold `{{`.
    private static func templates(in json: JSON) -> [Template] {
        switch json {
        case .string(let text) where text.contains("{{"): (try? Template(text)).map { [$0] } ?? []
        case .array(let items): items.flatMap { templates(in: $0) }
        case .object(let fields): fields.values.flatMap { templates(in: $0) }
        default: []
        }
    }
}
