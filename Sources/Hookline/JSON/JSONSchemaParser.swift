import Foundation

/// Reads a schema's JSON into ``JSONSchemaRule``s, collecting every problem with its place in the schema.
struct JSONSchemaParser {
    var problems: [JSONIssue] = []

    /// Keywords that refer to other schemas, which are not resolved.
    static let references = ["$ref", "$dynamicRef", "$recursiveRef"]

    mutating func problem(_ path: [String], _ message: String) {
        problems.append(JSONIssue(location: JSONSchema.pointer(path), message: message))
    }

    /// The rules of the schema `json` at `path`, `depth` levels deep (the root is level 1).
    mutating func schema(_ json: JSON, at path: [String], depth: Int) -> [JSONSchemaRule] {
        guard depth <= JSONSchema.maxDepth else {
            problem(path, "schemas nest more than \(JSONSchema.maxDepth) deep")
            return []
        }
        switch json {
        case .bool(let allowed): return allowed ? [] : [.never]
        case .object(let object): return keywords(object, at: path, depth: depth)
        default:
            problem(path, "a schema must be an object or a boolean")
            return []
        }
    }

    /// The rules of a schema object, in a fixed order: the order its violations are reported in.
    private mutating func keywords(_ object: [String: JSON], at path: [String], depth: Int) -> [JSONSchemaRule] {
        for key in Self.references where object[key] != nil {
            problem(path + [key], "\(key) is not supported: references are not resolved, so write the schema out")
        }
        var rules: [JSONSchemaRule] = []
        func add(_ rule: JSONSchemaRule?) { if let rule { rules.append(rule) } }
        if let value = object["type"] { add(type(value, at: path + ["type"])) }
        if let value = object["enum"] {
            if let values = value.array {
                rules.append(.enumeration(values))
            } else {
                problem(path + ["enum"], "must be an array of the allowed values")
            }
        }
        if let value = object["const"] { rules.append(.constant(value)) }
        for bound in JSONSchemaRule.Bound.allCases {
            guard let value = object[bound.rawValue] else { continue }
            if value.number != nil {
                rules.append(.bound(bound, value))
            } else {
                problem(path + [bound.rawValue], "must be a number")
            }
        }
        if let count = count(object, "minLength", at: path) { rules.append(.minLength(count)) }
        if let count = count(object, "maxLength", at: path) { rules.append(.maxLength(count)) }
        if let value = object["pattern"] { add(pattern(value, at: path + ["pattern"])) }
        if let value = object["items"] {
            if value.array != nil {
                problem(path + ["items"], "must be a schema: the array form (one schema per position) is not supported")
            } else {
                rules.append(.items(schema(value, at: path + ["items"], depth: depth + 1)))
            }
        }
        if let count = count(object, "minItems", at: path) { rules.append(.minItems(count)) }
        if let count = count(object, "maxItems", at: path) { rules.append(.maxItems(count)) }
        if let value = object["required"] {
            if let names = value.array?.compactMap(\.string), names.count == value.array?.count {
                rules.append(.required(names))
            } else {
                problem(path + ["required"], "must be an array of property names (strings)")
            }
        }
        if let value = object["properties"] { add(properties(value, at: path + ["properties"], depth: depth)) }
        if let value = object["additionalProperties"] {
            let declared = Set(object["properties"]?.object.map { Array($0.keys) } ?? [])
            let additional = schema(value, at: path + ["additionalProperties"], depth: depth + 1)
            rules.append(.additionalProperties(additional, declared: declared))
        }
        if let value = object["allOf"] { add(list(value, at: path + ["allOf"], depth: depth).map { .allOf($0) }) }
        if let value = object["anyOf"] { add(list(value, at: path + ["anyOf"], depth: depth).map { .anyOf($0) }) }
        if let value = object["oneOf"] { add(list(value, at: path + ["oneOf"], depth: depth).map { .oneOf($0) }) }
        if let value = object["not"] { rules.append(.not(schema(value, at: path + ["not"], depth: depth + 1))) }
        return rules
    }

    private mutating func type(_ value: JSON, at path: [String]) -> JSONSchemaRule? {
        let names = value.array ?? [value]
        let types = names.compactMap { $0.string.flatMap(JSONSchemaRule.InstanceType.init(rawValue:)) }
        guard !names.isEmpty, types.count == names.count, Set(types).count == types.count else {
            let list = JSONSchemaRule.InstanceType.allCases.map(\.rawValue).joined(separator: ", ")
            problem(path, "must be a type name or an array of different ones: \(list)")
            return nil
        }
        return .type(types)
    }

    /// A non-negative whole number under `key` (2.0 counts as 2).
    private mutating func count(_ object: [String: JSON], _ key: String, at path: [String]) -> Int? {
        guard let value = object[key] else { return nil }
        if let number = value.number, number >= 0, let count = Int(exactly: number) { return count }
        problem(path + [key], "must be a whole number, 0 or more")
        return nil
    }

    private mutating func pattern(_ value: JSON, at path: [String]) -> JSONSchemaRule? {
        guard let text = value.string else {
            problem(path, "must be a regular expression (a string)")
            return nil
        }
        guard let expression = try? NSRegularExpression(pattern: text) else {
            problem(path, "not a regular expression that compiles: \"\(text)\"")
            return nil
        }
        return .pattern(text, expression)
    }

    private mutating func properties(_ value: JSON, at path: [String], depth: Int) -> JSONSchemaRule? {
        guard let object = value.object else {
            problem(path, "must be an object of property names and their schemas")
            return nil
        }
        var schemas: [String: [JSONSchemaRule]] = [:]
        for name in object.keys.sorted() {
            schemas[name] = schema(object[name]!, at: path + [name], depth: depth + 1)
        }
        return .properties(schemas)
    }

    /// The schemas of `allOf`, `anyOf` or `oneOf`: a non-empty array.
    private mutating func list(_ value: JSON, at path: [String], depth: Int) -> [[JSONSchemaRule]]? {
        guard let array = value.array, !array.isEmpty else {
            problem(path, "must be a non-empty array of schemas")
            return nil
        }
        return array.enumerated().map { index, item in schema(item, at: path + [String(index)], depth: depth + 1) }
    }
}
