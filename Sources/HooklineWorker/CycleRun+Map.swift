import Foundation
import Hookline
import Postgres

extension CycleRun {
    /// A `map` step's output, its lookups read from `hookline.cycle_data`.
    func map(_ fields: [String: CycleDefinition.Value], runner: CycleRunner) async throws -> JSON {
        let context = templateContext
        let lookups = fields.values.compactMap { value -> String? in
            if case .lookup(let key) = value { return key.render(context) }
            return nil
        }
        return map(fields, context: context, stored: try await lookup(lookups, runner: runner))
    }

    /// A `map` step's output, once its lookups are done.
    func map(_ fields: [String: CycleDefinition.Value], context: [String: Any], stored: [String: JSON]) -> JSON {
        var object: [String: JSON] = [:]
        for (name, value) in fields {
            object[name] = evaluate(value, context: context, stored: stored)
        }
        return .object(object)
    }

    /// Values kept by `store` steps of this cycle, by key.
    /// - Throws: `CancellationError` when the read was cancelled with the run (the worker's drain).
    func lookup(_ keys: [String], runner: CycleRunner) async throws -> [String: JSON] {
        guard !keys.isEmpty, let cycle = job.cycleID else { return [:] }
        var found: [String: JSON] = [:]
        do {
            for row in try await runner.database.query(
                "SELECT key, value FROM hookline.cycle_data WHERE cycle_id = \(cycle) AND key = ANY(\(keys))")
            {
                found[try row.decode(String.self, at: 0)] = try JSON(
                    parsing: try row.decode(PostgresJSON.self, at: 1).bytes)
            }
        } catch let error as PostgresError where error.kind == .cancelled {
            throw CancellationError()
        } catch let error as PostgresError {
            throw StepFailure(message: "looking up stored values failed: \(error)", permanent: false)
        }
        return found
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
