import Foundation

extension CycleDefinitionParser {
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
        let limit = CycleDefinition.splitMaxItemsLimit
        var maxItems = CycleDefinition.defaultSplitMaxItems
        if let value = object["max_items"] {
            if case .int(let count) = value, count >= 1, count <= limit {
                maxItems = Int(count)
            } else {
                problem("\(location)/max_items", "must be a whole number from 1 to \(limit)")
            }
        }
        return pointer(object["path"], at: "\(location)/path").map { .split(source, $0, maxItems: maxItems) }
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
                    // Refused here rather than by the HTTP client on every call, retried until the job dies.
                    guard !saving || Self.isToken(name) else {
                        problem(
                            "\(location)/headers/\(escape(name))",
                            "not a header name (RFC 9110: letters, digits and !#$%&'*+-.^_`|~)")
                        continue
                    }
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
        guard let seconds = bounded(object["seconds"]?.number), seconds > 0, seconds <= Self.maxBackoffSeconds else {
            problem("\(location)/seconds", "a delay needs \"seconds\": a number above 0, at most 30 days")
            return nil
        }
        return .delay(seconds: seconds)
    }

    /// Whether `name` is an HTTP field name: a token (RFC 9110 §5.1, §5.6.2).
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "A")...UInt8(ascii: "Z"):
                    true
                default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }
}
