extension CycleInterpreter {
    /// A `map` step's output, its lookups read from `hookline.cycle_data`. A key no `store` step can keep
    /// (``problem(withKey:)``) is not looked up: its value is null, as for any key with nothing stored.
    func map(_ fields: [String: CycleDefinition.Value], _ effects: some CycleEffects) async throws -> JSON {
        let context = templateContext
        let lookups = try fields.values.compactMap { value -> String? in
            guard case .lookup(let key) = value else { return nil }
            let rendered = try key.render(context)
            return Self.problem(withKey: rendered) == nil ? rendered : nil
        }
        guard !lookups.isEmpty, let cycle = job.cycleID else { return try map(fields, context: context, stored: [:]) }
        return try map(fields, context: context, stored: try await effects.storedValues(cycle: cycle, keys: lookups))
    }

    /// A `map` step's output, once its lookups are done.
    func map(_ fields: [String: CycleDefinition.Value], context: TemplateContext, stored: [String: JSON])
        throws(TemplateBudget.Exceeded) -> JSON
    {
        var object: [String: JSON] = [:]
        for (name, value) in fields {
            object[name] = try evaluate(value, context: context, stored: stored)
        }
        return .object(object)
    }

    /// A value, with `context` built once per step by the caller.
    func evaluate(_ value: CycleDefinition.Value, context: TemplateContext, stored: [String: JSON] = [:])
        throws(TemplateBudget.Exceeded) -> JSON
    {
        switch value {
        case .pointer(let source, let pointer): return pointer.resolve(in: self.source(source)) ?? .null
        case .literal(let json): return json
        case .template(let template): return .string(try template.render(context))
        case .lookup(let key): return stored[try key.render(context)] ?? .null
        case .structure(let json): return try render(json, context: context)
        }
    }

    /// A JSON structure with every string rendered as a template.
    func render(_ json: JSON, context: TemplateContext) throws(TemplateBudget.Exceeded) -> JSON {
        switch json {
        case .string(let text) where text.contains("{{"):
            guard let template = try? Template(text) else { return json }
            return .string(try template.render(context))
        case .array(let items):
            var rendered: [JSON] = []
            rendered.reserveCapacity(items.count)
            for item in items { rendered.append(try render(item, context: context)) }
            return .array(rendered)
        case .object(let fields):
            var rendered: [String: JSON] = [:]
            for (name, field) in fields { rendered[name] = try render(field, context: context) }
            return .object(rendered)
        default: return json
        }
    }
}
