import Foundation

/// Checks a value against a schema's rules, collecting every violation with its place in the value.
///
/// It recurses once per level of the schema, so no deeper than ``JSONSchema/maxDepth`` levels however deep the
/// value is, and each rule looks at the values it applies to once: the work grows with the schema's size times
/// the value's.
struct JSONSchemaValidator {
    private(set) var violations: [JSONIssue] = []
    /// The reference tokens of the place being checked.
    private var path: [String] = []

    /// Enum values and consts shown in a message at most; the rest are counted.
    private static let valuesShown = 10

    /// The time all `pattern` matching of one validation may take. A pattern can backtrack exponentially (the
    /// schema's author wrote it, but the caller picks the string): matching stops there and the value fails.
    static let patternBudget: Duration = .milliseconds(100)
    /// When the pattern budget runs out.
    private var patternDeadline = ContinuousClock.now + patternBudget

    /// Violations kept at most: a value of millions of bad elements costs a count, not a list of millions.
    static let maxViolations = 100
    /// Violations found past ``maxViolations``.
    private(set) var uncounted = 0

    private mutating func violation(_ message: String) {
        guard violations.count < Self.maxViolations else {
            uncounted += 1
            return
        }
        violations.append(JSONIssue(location: JSONSchema.pointer(path), message: message))
    }

    /// Whether `value`, at the current place, passes `rules`; their violations are not kept.
    private func passes(_ value: JSON, _ rules: [JSONSchemaRule]) -> Bool {
        var branch = JSONSchemaValidator()
        branch.path = path
        branch.patternDeadline = patternDeadline
        branch.check(value, against: rules)
        return branch.violations.isEmpty
    }

    /// Checks `value` at `token` below the current place.
    private mutating func check(_ value: JSON, at token: String, against rules: [JSONSchemaRule]) {
        path.append(token)
        check(value, against: rules)
        path.removeLast()
    }

    mutating func check(_ value: JSON, against rules: [JSONSchemaRule]) {
        for rule in rules { check(value, rule) }
    }

    private mutating func check(_ value: JSON, _ rule: JSONSchemaRule) {
        switch rule {
        case .never:
            violation("no value is allowed here")
        case .type(let types):
            let actual = JSONSchemaRule.InstanceType(of: value)
            if !types.contains(where: { $0.admits(actual) }) {
                violation("must be \(types.map(\.phrase).joined(separator: " or ")), not \(actual.phrase)")
            }
        case .enumeration(let values):
            if !values.contains(where: value.sameValue) {
                let shown = values.prefix(Self.valuesShown).map(\.text).joined(separator: ", ")
                let more = values.count > Self.valuesShown ? " (and \(values.count - Self.valuesShown) more)" : ""
                violation(
                    values.isEmpty ? "no value is allowed here (enum is empty)" : "must be one of \(shown)\(more)")
            }
        case .constant(let constant):
            if !value.sameValue(as: constant) { violation("must be \(constant.text)") }
        case .bound(let bound, let limit):
            checkBound(value, bound, limit)
        case .minLength(let count):
            if let text = value.string, text.unicodeScalars.count < count {
                violation("must be at least \(count) character\(count == 1 ? "" : "s") long")
            }
        case .maxLength(let count):
            if let text = value.string, text.unicodeScalars.count > count {
                violation("must be at most \(count) character\(count == 1 ? "" : "s") long")
            }
        case .pattern(let pattern, let expression):
            guard let text = value.string else { break }
            switch Self.matches(expression, text, before: patternDeadline) {
            case true?: break
            case false?: violation("must match the pattern \(JSON.string(pattern).text)")
            case nil: violation("took too long to check against the pattern \(JSON.string(pattern).text)")
            }
        case .items(let rules):
            for (index, element) in (value.array ?? []).enumerated() {
                check(element, at: String(index), against: rules)
            }
        case .minItems(let count):
            if let array = value.array, array.count < count {
                violation("must have at least \(count) item\(count == 1 ? "" : "s")")
            }
        case .maxItems(let count):
            if let array = value.array, array.count > count {
                violation("must have at most \(count) item\(count == 1 ? "" : "s")")
            }
        case .required(let names):
            guard let object = value.object else { break }
            // Reported where the member would be, so that a client can point at the field to fill in.
            for name in names where object[name] == nil {
                path.append(name)
                violation("required")
                path.removeLast()
            }
        case .properties(let schemas):
            guard let object = value.object else { break }
            for name in schemas.keys.sorted() {
                if let member = object[name] { check(member, at: name, against: schemas[name]!) }
            }
        case .additionalProperties(let rules, let declared):
            checkAdditionalProperties(value, rules, declared: declared)
        case .allOf(let branches):
            for branch in branches { check(value, against: branch) }
        case .anyOf(let branches):
            if !branches.contains(where: { passes(value, $0) }) {
                violation("must match at least one of the \(branches.count) schemas in anyOf")
            }
        case .oneOf(let branches):
            let matching = branches.indices.filter { passes(value, branches[$0]) }
            if matching.count != 1 {
                let found =
                    matching.isEmpty
                    ? "it matches none" : "it matches \(matching.map(String.init).joined(separator: " and "))"
                violation("must match exactly one of the \(branches.count) schemas in oneOf; \(found)")
            }
        case .not(let rules):
            if passes(value, rules) { violation("must not match the schema in \"not\"") }
        }
    }

    private mutating func checkBound(_ value: JSON, _ bound: JSONSchemaRule.Bound, _ limit: JSON) {
        guard let order = Self.compare(value, limit) else { return }
        switch bound {
        case .minimum where order < 0: violation("must be at least \(limit.text)")
        case .maximum where order > 0: violation("must be at most \(limit.text)")
        case .exclusiveMinimum where order <= 0: violation("must be greater than \(limit.text)")
        case .exclusiveMaximum where order >= 0: violation("must be less than \(limit.text)")
        default: break
        }
    }

    private mutating func checkAdditionalProperties(_ value: JSON, _ rules: [JSONSchemaRule], declared: Set<String>) {
        guard let object = value.object else { return }
        for name in object.keys.sorted() where !declared.contains(name) {
            // `"additionalProperties": false` names the property at the object, as `required` does.
            if rules.count == 1, case .never = rules[0] {
                violation("unexpected property \(JSON.string(name).text)")
            } else {
                check(object[name]!, at: name, against: rules)
            }
        }
    }

    /// -1, 0 or 1 as number `a` is below, equal to or above number `b`; nil when `a` is not a number. Two
    /// integers compare exactly, beyond the 2^53 that doubles hold.
    static func compare(_ a: JSON, _ b: JSON) -> Int? {
        if case .int(let x) = a, case .int(let y) = b { return x < y ? -1 : x == y ? 0 : 1 }
        guard let x = a.number, let y = b.number else { return nil }
        return x < y ? -1 : x == y ? 0 : 1
    }

    /// Whether `expression` finds a match in `text`; nil when matching was stopped at `deadline`. ICU calls the
    /// block now and then while it works (`reportProgress`), which is where it is stopped.
    private static func matches(
        _ expression: NSRegularExpression, _ text: String, before deadline: ContinuousClock.Instant
    )
        -> Bool?
    {
        var found = false
        var stopped = false
        expression.enumerateMatches(in: text, options: [.reportProgress], range: NSRange(text.startIndex..., in: text))
        { match, _, stop in
            if match != nil {
                found = true
                stop.pointee = true
            } else if ContinuousClock.now >= deadline {
                stopped = true
                stop.pointee = true
            }
        }
        return found ? true : stopped ? nil : false
    }
}
