/// A JSON Schema (2020-12 and draft-07 keywords) for what an MCP tool's input schema uses in practice, parsed
/// once and checked against values with ``validate(_:)``.
///
/// Supported: `type`, `properties`, `required`, `additionalProperties`, `items` (one schema), `enum`, `const`,
/// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (numbers), `minLength`, `maxLength` (in code
/// points), `minItems`, `maxItems`, `pattern` (NSRegularExpression, unanchored), `anyOf`, `oneOf`, `allOf`,
/// `not`, and the schemas `true` and `false`. Other keywords are ignored, as JSON Schema says, annotations
/// (`description`, `title`, `default`, …) included; references (`$ref`, `$dynamicRef`, `$recursiveRef`) are
/// refused, since they are not resolved. Schemas nest at most ``maxDepth`` deep, and checking a value recurses
/// only as deep as the schema.
public struct JSONSchema: Sendable, Hashable {
    /// The schema as it was given, to be served back unchanged.
    public private(set) var json: JSON
    let rules: [JSONSchemaRule]

    /// How deep schemas may nest: the schema itself is level 1, a schema in its `properties` level 2, and so on.
    public static let maxDepth = 32

    /// Parses a schema, reporting every problem at once.
    public init(_ json: JSON) throws(JSONSchemaProblems) {
        var parser = JSONSchemaParser()
        let rules = parser.schema(json, at: [], depth: 1)
        guard parser.problems.isEmpty else { throw JSONSchemaProblems(problems: parser.problems) }
        self.json = json
        self.rules = rules
    }

    /// Parses an MCP tool's input schema: a schema whose root is `"type": "object"`, since a tool's arguments
    /// are an object.
    public init(toolInput json: JSON) throws(JSONSchemaProblems) {
        var parser = JSONSchemaParser()
        let rules = parser.schema(json, at: [], depth: 1)
        let schema = JSONSchema(json: json, rules: rules)
        let reported = parser.problems.contains { [[], ["type"]].contains($0.location.tokens) }
        if !schema.isObjectSchema, !reported {
            if json["type"] == nil {
                parser.problem([], "an MCP tool's input schema must be an object schema, with \"type\": \"object\"")
            } else {
                parser.problem(["type"], "must be \"object\": an MCP tool's arguments are an object")
            }
        }
        guard parser.problems.isEmpty else { throw JSONSchemaProblems(problems: parser.problems) }
        self = schema
    }

    private init(json: JSON, rules: [JSONSchemaRule]) {
        self.json = json
        self.rules = rules
    }

    /// Whether the schema is an object with `"type": "object"`, as an MCP tool's input schema must be.
    public var isObjectSchema: Bool { json["type"] == .string("object") }

    /// Every way `value` fails the schema, in the order of the schema's keywords; empty when it passes.
    /// At most ``JSONSchemaValidator/maxViolations`` of them, then one that counts the rest.
    public func validate(_ value: JSON) -> [JSONIssue] {
        var validator = JSONSchemaValidator()
        validator.check(value, against: rules)
        guard validator.uncounted > 0 else { return validator.violations }
        return validator.violations + [
            JSONIssue(location: JSONPointer("")!, message: "and \(validator.uncounted) more")
        ]
    }

    /// The rules follow from the JSON, so the JSON alone decides equality.
    public static func == (lhs: JSONSchema, rhs: JSONSchema) -> Bool { lhs.json == rhs.json }

    public func hash(into hasher: inout Hasher) { hasher.combine(json) }

    /// The pointer whose reference tokens are `tokens`.
    static func pointer(_ tokens: [String]) -> JSONPointer {
        JSONPointer(tokens.map { "/" + JSONPointer.escape($0) }.joined())!
    }
}
