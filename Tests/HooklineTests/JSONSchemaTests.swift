import Hookline
import Testing

/// A value from JSON text; the tests' texts are valid.
private func json(_ text: String) -> JSON {
    try! JSON(parsing: Array(text.utf8))
}

/// A schema from JSON text, which must parse.
private func schema(_ text: String) throws -> JSONSchema {
    try JSONSchema(json(text))
}

/// The violations of `value` against `schemaText`, as `pointer: message` lines.
private func violations(_ schemaText: String, _ value: String) throws -> [String] {
    try schema(schemaText).validate(json(value)).map(\.description)
}

/// The problems found parsing `text`, as `pointer: message` lines (empty when it parses).
private func problems(_ text: String, toolInput: Bool = false) -> [String] {
    do throws(JSONSchemaProblems) {
        _ = toolInput ? try JSONSchema(toolInput: json(text)) : try JSONSchema(json(text))
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

@Suite("JSON Schema: the keywords of MCP tool input schemas")
struct JSONSchemaTests {
    /// Each case: a schema, values that pass it, and values that fail it with the violations expected.
    struct Case: CustomTestStringConvertible {
        var schema: String
        var passing: [String]
        var failing: [(String, [String])]
        var testDescription: String { schema }
    }

    static let keywordCases: [Case] = [
        Case(
            schema: #"{"type": "string"}"#, passing: [#""a""#, #""""#],
            failing: [("1", ["/: must be a string, not an integer"]), ("null", ["/: must be a string, not null"])]),
        Case(
            schema: #"{"type": ["object", "null"]}"#, passing: ["{}", "null"],
            failing: [("[]", ["/: must be an object or null, not an array"])]),
        Case(
            schema: #"{"type": "array"}"#, passing: ["[]", "[1]"],
            failing: [("{}", ["/: must be an array, not an object"])]),
        Case(
            schema: #"{"type": "boolean"}"#, passing: ["true", "false"],
            failing: [("0", ["/: must be a boolean, not an integer"])]),
        Case(
            schema: #"{"type": "null"}"#, passing: ["null"],
            failing: [("false", ["/: must be null, not a boolean"])]),
        Case(
            schema: #"{"type": "integer"}"#, passing: ["3", "-7", "2.0", "1e3"],
            failing: [
                ("2.5", ["/: must be an integer, not a number"]), (#""3""#, ["/: must be an integer, not a string"]),
            ]
        ),
        Case(
            schema: #"{"type": "number"}"#, passing: ["3", "2.5", "-0.1"],
            failing: [
                (#""2.5""#, ["/: must be a number, not a string"]), ("true", ["/: must be a number, not a boolean"]),
            ]
        ),
        Case(
            schema: #"{"enum": ["red", 1, null, {"a": [1]}]}"#,
            passing: [#""red""#, "1", "1.0", "null", #"{"a": [1.0]}"#],
            failing: [
                (#""blue""#, [#"/: must be one of "red", 1, null, {"a":[1]}"#]),
                ("2", [#"/: must be one of "red", 1, null, {"a":[1]}"#]),
            ]),
        Case(
            schema: #"{"const": {"v": 2}}"#, passing: [#"{"v": 2}"#, #"{"v": 2.0}"#],
            failing: [(#"{"v": 3}"#, [#"/: must be {"v":2}"#]), (#"{"v": 2, "w": 1}"#, [#"/: must be {"v":2}"#])]),
        Case(
            schema: #"{"minimum": 1}"#, passing: ["1", "1.5", #""strings are not numbers""#],
            failing: [("0.99", ["/: must be at least 1"])]),
        Case(
            schema: #"{"maximum": 10}"#, passing: ["10", "-3"],
            failing: [("10.01", ["/: must be at most 10"]), ("11", ["/: must be at most 10"])]),
        Case(
            schema: #"{"exclusiveMinimum": 0}"#, passing: ["0.001", "1"],
            failing: [("0", ["/: must be greater than 0"]), ("-1", ["/: must be greater than 0"])]),
        Case(
            schema: #"{"exclusiveMaximum": 2.5}"#, passing: ["2.4", "2"],
            failing: [("2.5", ["/: must be less than 2.5"])]),
        Case(
            schema: #"{"maximum": 9007199254740992}"#, passing: ["9007199254740992"],
            failing: [("9007199254740993", ["/: must be at most 9007199254740992"])]),
        Case(
            // "e\u0301" is one character but two code points, the unit JSON Schema counts.
            schema: #"{"minLength": 2}"#, passing: [#""ab""#, #""e\u0301""#, "5"],
            failing: [
                (#""é""#, ["/: must be at least 2 characters long"]),
                (#""""#, ["/: must be at least 2 characters long"]),
            ]),
        Case(
            schema: #"{"maxLength": 1}"#, passing: [#""é""#, #""""#],
            failing: [(#""e\u0301""#, ["/: must be at most 1 character long"])]),
        Case(
            schema: #"{"minItems": 1}"#, passing: ["[0]", #""not an array""#],
            failing: [("[]", ["/: must have at least 1 item"])]),
        Case(
            schema: #"{"maxItems": 2}"#, passing: ["[]", "[1, 2]"],
            failing: [("[1, 2, 3]", ["/: must have at most 2 items"])]),
        Case(
            schema: #"{"pattern": "^[A-Z]{3}-\\d+$"}"#, passing: [#""SKU-12""#, "12"],
            failing: [(#""sku-12""#, [#"/: must match the pattern "^[A-Z]{3}-\\d+$""#])]),
        Case(
            // A pattern is not anchored unless it says so.
            schema: #"{"pattern": "b"}"#, passing: [#""abc""#],
            failing: [(#""xyz""#, [#"/: must match the pattern "b""#])]),
        Case(
            schema: #"{"items": {"type": "integer"}}"#, passing: ["[]", "[1, 2]"],
            failing: [
                (#"[1, "x", 2.5]"#, ["/1: must be an integer, not a string", "/2: must be an integer, not a number"])
            ]),
        Case(
            schema: #"{"required": ["sku", "qty"]}"#, passing: [#"{"sku": 1, "qty": 2, "more": 3}"#, "[]"],
            failing: [
                (#"{"qty": 1}"#, ["/sku: required"]),
                (#"{"sku": null}"#, ["/qty: required"]),
                ("{}", ["/sku: required", "/qty: required"]),
            ]),
        Case(
            schema: #"{"properties": {"qty": {"type": "integer"}, "a/b": {"const": 1}}}"#,
            passing: ["{}", #"{"qty": 1, "other": "x"}"#],
            failing: [(#"{"qty": "1", "a/b": 2}"#, ["/a~1b: must be 1", "/qty: must be an integer, not a string"])]),
        Case(
            schema: #"{"properties": {"a": {}}, "additionalProperties": false}"#, passing: [#"{"a": 1}"#, "{}"],
            failing: [(#"{"a": 1, "b": 2, "c": 3}"#, [#"/: unexpected property "b""#, #"/: unexpected property "c""#])]),
        Case(
            schema: #"{"properties": {"a": {}}, "additionalProperties": {"type": "string"}}"#,
            passing: [#"{"a": 1, "b": "x"}"#],
            failing: [(#"{"a": 1, "b": 2}"#, ["/b: must be a string, not an integer"])]),
        Case(
            schema: #"{"allOf": [{"minimum": 2}, {"maximum": 1}]}"#, passing: [],
            failing: [("1.5", ["/: must be at least 2", "/: must be at most 1"])]),
        Case(
            schema: #"{"allOf": [{"type": "integer"}, {"minimum": 2}]}"#, passing: ["2"],
            failing: [("1", ["/: must be at least 2"])]),
        Case(
            schema: #"{"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]}"#, passing: [#""x""#, "0"],
            failing: [
                ("-1", ["/: must match at least one of the 2 schemas in anyOf"]),
                ("null", ["/: must match at least one of the 2 schemas in anyOf"]),
            ]),
        Case(
            schema: #"{"oneOf": [{"type": "integer"}, {"minimum": 10}]}"#, passing: ["3", "10.5"],
            failing: [
                ("12", ["/: must match exactly one of the 2 schemas in oneOf; it matches 0 and 1"]),
                ("2.5", ["/: must match exactly one of the 2 schemas in oneOf; it matches none"]),
            ]),
        Case(
            schema: #"{"not": {"type": "null"}}"#, passing: ["0", "{}"],
            failing: [("null", [#"/: must not match the schema in "not""#])]),
        Case(
            schema: #"{"properties": {"never": false, "any": true}}"#, passing: [#"{"any": 1}"#],
            failing: [(#"{"never": 1}"#, ["/never: no value is allowed here"])]),
        Case(
            // Annotations and unknown keywords are ignored.
            schema: #"""
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:x", "title": "T",
                 "description": "D", "default": 3, "examples": [4], "format": "email", "x-vendor": {"type": "null"}}
                """#,
            passing: ["3", #""not an email""#, "null"], failing: []),
    ]

    @Test(arguments: keywordCases) func eachKeywordPassesAndFails(_ test: Case) throws {
        let parsed = try schema(test.schema)
        for value in test.passing {
            #expect(parsed.validate(json(value)).isEmpty, "\(value) should pass")
        }
        for (value, expected) in test.failing {
            #expect(parsed.validate(json(value)).map(\.description) == expected, "\(value)")
        }
    }

    @Test func everyViolationIsListedWithItsPointer() throws {
        let order = #"""
            {"type": "object", "required": ["sku", "quantity", "lines"],
             "properties": {
               "sku": {"type": "string", "pattern": "^[A-Z]+$"},
               "quantity": {"type": "integer", "minimum": 1, "maximum": 10},
               "lines": {"type": "array", "minItems": 1, "items": {
                 "type": "object", "required": ["id"], "additionalProperties": false,
                 "properties": {"id": {"type": "integer"}, "tags": {"items": {"enum": ["a", "b"]}}}}}}}
            """#
        let found = try violations(
            order, #"{"quantity": 11, "lines": [{"id": 1, "tags": ["a", "c"]}, {"id": "2", "x": 0}, {"tags": []}]}"#)
        #expect(
            found == [
                "/sku: required",
                #"/lines/0/tags/1: must be one of "a", "b""#,
                "/lines/1/id: must be an integer, not a string",
                #"/lines/1: unexpected property "x""#,
                "/lines/2/id: required",
                "/quantity: must be at most 10",
            ])
        #expect(try violations(order, #"{"sku": "AB", "quantity": 2, "lines": [{"id": 1}]}"#).isEmpty)
        let violation = try schema(order).validate(json(#"{"sku": "AB", "quantity": 0, "lines": []}"#))
        #expect(violation.map(\.location.tokens) == [["lines"], ["quantity"]])
        #expect(violation.map(\.message) == ["must have at least 1 item", "must be at least 1"])
    }

    @Test func anEnumOfManyValuesShowsTheFirstTen() throws {
        let values = (1...25).map(String.init).joined(separator: ", ")
        #expect(
            try violations("{\"enum\": [\(values)]}", "0")
                == ["/: must be one of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 (and 15 more)"])
        #expect(try violations(#"{"enum": []}"#, "0") == ["/: no value is allowed here (enum is empty)"])
    }

    @Test func referencesAreRefusedWhereverTheyAre() {
        #expect(problems(##"{"$ref": "#/$defs/a", "$defs": {"a": {}}}"##).count == 1)
        #expect(
            problems(##"{"properties": {"a": {"$ref": "#/x"}, "$ref": {"type": "string"}}}"##) == [
                "/properties/a/$ref: $ref is not supported: references are not resolved, so write the schema out"
            ])
        #expect(problems(##"{"items": {"$dynamicRef": "#meta"}}"##).first?.hasPrefix("/items/$dynamicRef: ") == true)
    }

    @Test func everyBadKeywordValueIsReportedAtItsPointer() {
        let found = problems(
            #"""
            {"type": "text", "minimum": "1", "maxLength": -1, "minItems": 1.5, "pattern": "([a-z]", "required": [1],
             "enum": 3, "anyOf": [], "oneOf": {}, "items": [{}], "not": 5,
             "properties": {"qty": {"exclusiveMaximum": true, "type": ["string", "string"]}, "ok": {"type": ["integer", "null"]}}}
            """#)
        #expect(
            found == [
                "/type: must be a type name or an array of different ones: object, array, string, number, integer, boolean, null",
                "/enum: must be an array of the allowed values",
                "/minimum: must be a number",
                "/maxLength: must be a whole number, 0 or more",
                #"/pattern: not a regular expression that compiles: "([a-z]""#,
                "/items: must be a schema: the array form (one schema per position) is not supported",
                "/minItems: must be a whole number, 0 or more",
                "/required: must be an array of property names (strings)",
                "/properties/qty/type: must be a type name or an array of different ones: object, array, string, number, integer, boolean, null",
                "/properties/qty/exclusiveMaximum: must be a number",
                "/anyOf: must be a non-empty array of schemas",
                "/oneOf: must be a non-empty array of schemas",
                "/not: a schema must be an object or a boolean",
            ])
        #expect(problems(#"{"minLength": 2.0, "maxItems": 0, "type": []}"#).map { $0.prefix(6) } == ["/type:"])
        #expect(problems(#"[{"type": "string"}]"#) == ["/: a schema must be an object or a boolean"])
    }

    /// A pattern that backtracks exponentially (`(a+)+$` on a's and one other character) is a caller's lever on
    /// a server thread: its matching stops at the validation's time budget and the value fails.
    @Test func aCatastrophicPatternIsCutOffAndFails() throws {
        let evil = "\"" + String(repeating: "a", count: 40) + "!\""
        let start = ContinuousClock.now
        let found = try violations(#"{"type": "string", "pattern": "^(a+)+$"}"#, evil)
        #expect(start.duration(to: .now) < .seconds(2))
        #expect(found == ["/: took too long to check against the pattern \"^(a+)+$\""])
        #expect(try violations(#"{"type": "string", "pattern": "^(a+)+$"}"#, #""aaaa""#).isEmpty)
    }

    /// A value of many bad elements gets a bounded list: the first hundred and a count of the rest.
    @Test func aHundredViolationsAreListedAndTheRestCounted() throws {
        let value = "[" + Array(repeating: "\"a\"", count: 500).joined(separator: ",") + "]"
        let found = try violations(#"{"type": "array", "items": {"type": "integer"}}"#, value)
        #expect(found.count == 101)
        #expect(found.first == "/0: must be an integer, not a string")
        #expect(found.last == "/: and 400 more")
    }

    @Test func schemasNestAtMost32Deep() {
        func nested(_ levels: Int) -> String {
            // `levels` schemas, each the `items` of the one before.
            String(repeating: #"{"items": "#, count: levels - 1) + "{}" + String(repeating: "}", count: levels - 1)
        }
        #expect(JSONSchema.maxDepth == 32)
        #expect(problems(nested(32)).isEmpty)
        let tooDeep = "/" + Array(repeating: "items", count: 32).joined(separator: "/")
        #expect(problems(nested(33)) == ["\(tooDeep): schemas nest more than 32 deep"])
        #expect(problems(#"{"anyOf": [\#(nested(32))]}"#).first?.hasSuffix("schemas nest more than 32 deep") == true)
    }

    @Test func validatingADeepValueRecursesOnlyAsDeepAsTheSchema() throws {
        // 500 levels, nearly what the JSON reader allows (512).
        let deep = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(try violations(#"{"items": {"type": "array"}}"#, deep).isEmpty)
        #expect(
            try violations(#"{"items": {"items": {"type": "string"}}}"#, deep) == [
                "/0/0: must be a string, not an array"
            ])
        #expect(try violations(#"{"const": [[1]]}"#, deep) == ["/: must be [[1]]"])
        #expect(try violations(#"{"not": {"enum": [[[]]]}}"#, deep).isEmpty)
    }

    @Test func aToolsInputSchemaIsAnObjectSchema() throws {
        #expect(problems(#"{"type": "object", "properties": {"q": {"type": "string"}}}"#, toolInput: true).isEmpty)
        #expect(
            problems(#"{"properties": {}}"#, toolInput: true) == [
                #"/: an MCP tool's input schema must be an object schema, with "type": "object""#
            ])
        #expect(problems("true", toolInput: true).count == 1)
        #expect(
            problems(#"{"type": ["object", "null"]}"#, toolInput: true) == [
                #"/type: must be "object": an MCP tool's arguments are an object"#
            ])
        #expect(problems(#"{"type": "objekt"}"#, toolInput: true).count == 1, "one problem at /type, not two")
        #expect(try !schema(#"{"type": "string"}"#).isObjectSchema)
        #expect(try schema(#"{"type": "object"}"#).isObjectSchema)
    }

    @Test func theSchemaKeepsItsJSONAndComparesByIt() throws {
        let text =
            #"{"type": "object", "x-unknown": [1, 2], "description": "kept", "properties": {"a": {"minimum": 1.0}}}"#
        let parsed = try schema(text)
        #expect(parsed.json == json(text))
        #expect(parsed == (try schema(text)))
        #expect(parsed != (try schema(#"{"type": "object"}"#)))
        #expect(Set([parsed, try schema(text)]).count == 1)
    }
}
