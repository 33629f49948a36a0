extension CycleInterpreter {
    /// A `map` step's output, its lookups read from `hookline.cycle_data`.
    func map(_ fields: [String: CycleDefinition.Value], _ effects: some CycleEffects) async throws -> JSON {
        let context = templateContext
        let lookups = fields.values.compactMap { value -> String? in
            if case .lookup(let key) = value { return key.render(context) }
            return nil
        }
        guard !lookups.isEmpty, let cycle = job.cycleID else { return map(fields, context: context, stored: [:]) }
        return map(fields, context: context, stored: try await effects.storedValues(cycle: cycle, keys: lookups))
    }

    /// A `map` step's output, once its lookups are done.
    func map(_ fields: [String: CycleDefinition.Value], context: [String: Any], stored: [String: JSON]) -> JSON {
        var object: [String: JSON] = [:]
        for (name, value) in fields {
            object[name] = evaluate(value, context: context, stored: stored)
        }
        return .object(object)
    }

    /// A value, with `context` built once per step by the caller.
    func evaluate(_ value: CycleDefinition.Value, context: [String: Any], stored: [String: JSON] = [:]) -> JSON {
        switch value {
        case .pointer(let source, let pointer): return pointer.resolve(in: self.source(source)) ?? .null
        case .literal(let json): return json
        case .template(let template): return .string(template.render(context))
        case .lookup(let key): return stored[key.render(context)] ?? .null
        case .structure(let json): return render(json, context: context)
        }
    }

    /// A JSON structure with every string rendered as a template.
    func render(_ json: JSON, context: [String: Any]) -> JSON {
        switch json {
        case .string(let text) where text.contains("{{"):
            return .string((try? Template(text))?.render(context) ?? text)
        case .array(let items): return .array(items.map { render($0, context: context) })
        case .object(let fields): return .object(fields.mapValues { render($0, context: context) })
        default: return json
        }
    }
}
