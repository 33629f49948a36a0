import Foundation
import Hookline
import Testing

@Suite("Cycle definitions: parsing, validation, JSON Pointers and templates")
struct CycleDefinitionTests {
    @Test func theDesignDocumentsExampleParses() throws {
        let definition = try CycleDefinition.parse(
            Array(
                """
                {"name": "orders-to-crm",
                 "retry": {"max_attempts": 6, "backoff_seconds": 5, "max_backoff_seconds": 3600},
                 "steps": [
                   {"id": "orders", "type": "filter", "path": "/type", "equals": "order.created"},
                   {"id": "each",   "type": "split",  "path": "/data/items"},
                   {"id": "shape",  "type": "map",    "fields": {"sku": "/sku", "qty": "/quantity"}},
                   {"id": "send",   "type": "http",   "method": "POST", "url": "http://127.0.0.1:9000/orders",
                    "headers": {"X-Account": "{{account_id}}"}, "body_from": "shape", "timeout_seconds": 10},
                   {"id": "keep",   "type": "store",  "key": "{{steps.shape.sku}}", "value_from": "send"}]}
                """.utf8)
        ).get()
        #expect(definition.name == "orders-to-crm")
        #expect(definition.onError == .retry)
        #expect(definition.retry == RetryPolicy(maxAttempts: 6, backoffSeconds: 5, maxBackoffSeconds: 3600))
        #expect(definition.steps.map(\.id) == ["orders", "each", "shape", "send", "keep"])
        #expect(definition.steps.map(\.action.type) == [.filter, .split, .map, .http, .store])
    }

    /// Backoffs longer than 30 days are refused: `now()` plus one of some 10¹³ seconds overflows in PostgreSQL,
    /// so recording the failure failed, and the job went round on lease expiries instead.
    @Test func backoffsAreBoundedToThirtyDays() throws {
        for (field, seconds, accepted) in [
            ("backoff_seconds", "2592000", true), ("max_backoff_seconds", "2592000", true),
            ("backoff_seconds", "2592001", false), ("max_backoff_seconds", "1e13", false),
        ] {
            let text = #"{"name": "b", "retry": {"\#(field)": \#(seconds)}, "steps": []}"#
            let result = CycleDefinition.parse(Array(text.utf8))
            switch result {
            case .success: #expect(accepted, "\(field) \(seconds)")
            case .failure(let failure):
                #expect(!accepted, "\(field) \(seconds): \(failure)")
                #expect(failure.problems.map(\.location) == ["/retry/\(field)"])
            }
        }
    }

    @Test func everyProblemIsReportedAtOnceWithItsLocation() throws {
        let result = CycleDefinition.parse(
            Array(
                """
                {"name": "", "on_error": "explode", "retry": {"max_attempts": 0, "tries": 2},
                 "steps": [
                   {"id": "a", "type": "htp"},
                   {"id": "b", "type": "filter", "path": "type", "equals": 1},
                   {"id": "b", "type": "map", "fields": {"x": "{{steps.later.y}}", "y": {"pointer": "/a~2"}}},
                   {"id": "c", "type": "http", "url": "{{#payload}}", "body_from": "nope"},
                   {"id": "d", "type": "filter", "path": "/x", "equals": 1, "gt": 2},
                   {"id": "e", "type": "http", "url": "ftp://example.com/"},
                   {"id": "later", "type": "store", "key": "k", "value_from": "later", "colour": "red"}
                 ]}
                """.utf8))
        guard case .failure(let failure) = result else {
            Issue.record("a definition full of problems was accepted")
            return
        }
        let found = failure.problems.map(\.location)
        #expect(
            found == [
                "/name", "/retry/tries", "/retry/max_attempts", "/on_error", "/steps/0/type", "/steps/1/path",
                "/steps/2/id", "/steps/2/fields/x", "/steps/2/fields/y/pointer", "/steps/3/url", "/steps/3/body_from",
                "/steps/4", "/steps/5/url", "/steps/6/value_from", "/steps/6/colour",
            ])
        let messages = Dictionary(failure.problems.map { ($0.location, $0.message) }) { a, _ in a }
        #expect(messages["/steps/0/type"]?.contains("unknown step type \"htp\"") == true)
        #expect(messages["/steps/2/id"] == "duplicate step id \"b\"")
        #expect(messages["/steps/2/fields/x"]?.contains("comes later") == true)
        #expect(messages["/steps/3/body_from"] == "no step \"nope\"")
        #expect(messages["/steps/3/url"]?.contains("does not parse") == true)
        #expect(messages["/steps/1/path"]?.contains("JSON Pointer") == true)
        #expect(failure.description.hasPrefix("the cycle definition has 15 problems:"))
    }

    @Test func splitMaxItemsIsAWholeNumberFromOneTo100000() {
        func parse(_ maxItems: String) -> Result<CycleDefinition, CycleProblems> {
            CycleDefinition.parse(
                Array(
                    """
                    {"name": "s", "steps": [{"id": "each", "type": "split", "path": "/items", "max_items": \(maxItems)}]}
                    """.utf8))
        }
        for good in ["1", "10000", "100000"] {
            if case .failure(let failure) = parse(good) { Issue.record("max_items \(good) was refused: \(failure)") }
        }
        for bad in ["0", "-1", "100001", "2.5", #""many""#, "null"] {
            guard case .failure(let failure) = parse(bad) else {
                Issue.record("max_items \(bad) was accepted")
                continue
            }
            #expect(failure.problems.map(\.location) == ["/steps/0/max_items"], "\(bad)")
            #expect(failure.problems.first?.message.contains("100000") == true, "\(failure)")
        }
    }

    @Test func nestedSplitsMayMakeAtMost100000JobsFromOneDelivery() {
        func parse(_ first: String, _ second: String) -> Result<CycleDefinition, CycleProblems> {
            CycleDefinition.parse(
                Array(
                    """
                    {"name": "s", "steps": [
                      {"id": "orders", "type": "split", "path": "/orders"\(first)},
                      {"id": "lines", "type": "split", "path": "/lines"\(second)}]}
                    """.utf8))
        }
        if case .failure(let failure) = parse(#", "max_items": 1000"#, #", "max_items": 100"#) {
            Issue.record("1,000 × 100 was refused: \(failure)")
        }
        // Every split after another runs in each of its children: the defaults make 10^8 jobs.
        for (first, second) in [("", ""), (#", "max_items": 1000"#, #", "max_items": 101"#)] {
            guard case .failure(let failure) = parse(first, second) else {
                Issue.record("splits of \(first) and \(second) were accepted")
                continue
            }
            #expect(failure.problems.map(\.location) == ["/steps/1/max_items"])
            #expect(failure.problems.first?.message.contains("at most 100000") == true, "\(failure)")
        }
    }

    @Test func httpHeaderNamesAreTokens() {
        let definition = #"""
            {"name": "h", "steps": [{"id": "call", "type": "http", "url": "https://example.com",
              "headers": {"X-Fine_1": "a", "Bad Name": "b", "": "c", "X-Ünicode": "d", "X:Colon": "e"}}]}
            """#
        guard case .failure(let failure) = CycleDefinition.parse(Array(definition.utf8)) else {
            Issue.record("header names that HTTP cannot carry were accepted")
            return
        }
        #expect(
            failure.problems.map(\.location).sorted()
                == [
                    "/steps/0/headers/", "/steps/0/headers/Bad Name", "/steps/0/headers/X-Ünicode",
                    "/steps/0/headers/X:Colon",
                ])
        #expect(
            failure.problems.allSatisfy {
                $0.message == "not a header name (RFC 9110: letters, digits and !#$%&'*+-.^_`|~)"
            })
    }

    @Test func savedVersionsAreReadByTheRulesTheyWereSavedUnder() {
        let steps = (0..<101).map { #"{"id": "m\#($0)", "type": "map", "fields": {"n": 1}}"# }
        for text in [
            #"{"name": "long", "steps": [\#(steps.joined(separator: ","))]}"#,
            #"{"name": "s", "steps": [{"id": "a", "type": "split", "path": ""}, {"id": "b", "type": "split", "path": ""}]}"#,
            #"{"name": "h", "steps": [{"id": "c", "type": "http", "url": "https://x.example", "headers": {"Bad Name": "v"}}]}"#,
            #"{"name": "b", "retry": {"backoff_seconds": 1e12, "max_backoff_seconds": 1e12}, "steps": [{"id": "d", "type": "delay", "seconds": 1e12}]}"#,
        ] {
            if case .success = CycleDefinition.parse(Array(text.utf8)) {
                Issue.record("a new definition passed: \(text.prefix(40))")
            }
            if case .failure(let failure) = CycleDefinition.parse(saved: Array(text.utf8)) {
                Issue.record("a saved version was refused: \(failure)")
            }
        }
        // A saved backoff or delay past the bound waits the bound.
        let long = try? CycleDefinition.parse(
            saved: Array(
                #"{"name": "b", "retry": {"backoff_seconds": 1e12}, "steps": [{"id": "d", "type": "delay", "seconds": 1e12}]}"#
                    .utf8)
        ).get()
        let thirtyDays: Double = 86_400 * 30
        #expect(long?.retry.backoffSeconds == thirtyDays)
        #expect(long?.steps.first?.action == .delay(seconds: thirtyDays))
        // The rules of every version still hold for saved ones.
        guard case .failure = CycleDefinition.parse(saved: Array(#"{"name": "", "steps": []}"#.utf8)) else {
            Issue.record("a nameless saved version was read")
            return
        }
    }

    @Test func aCycleHasAtMost100Steps() {
        func parse(steps: Int) -> Result<CycleDefinition, CycleProblems> {
            let list = (0..<steps).map { #"{"id": "m\#($0)", "type": "map", "fields": {"n": 1}}"# }
            return CycleDefinition.parse(
                Array(#"{"name": "long", "steps": [\#(list.joined(separator: ","))]}"#.utf8))
        }
        if case .failure(let failure) = parse(steps: 100) { Issue.record("100 steps were refused: \(failure)") }
        guard case .failure(let failure) = parse(steps: 101) else {
            Issue.record("101 steps were accepted")
            return
        }
        #expect(failure.problems.map(\.location) == ["/steps"])
        #expect(failure.problems.first?.message == "a cycle has at most 100 steps")
    }

    @Test func notJSONAndNotAnObjectAreProblemsToo() {
        for text in ["{", "[1, 2]", "\"name\""] {
            guard case .failure(let failure) = CycleDefinition.parse(Array(text.utf8)) else {
                Issue.record("\(text) was accepted")
                continue
            }
            #expect(failure.problems.count == 1, "\(text)")
        }
    }

    @Test func anInputSchemaAndADescriptionAreKept() throws {
        let schema = #"{"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}}}"#
        let definition = try CycleDefinition.parse(
            Array(
                """
                {"name": "lookup", "description": "Looks an order up by SKU.", "input_schema": \(schema),
                 "steps": [{"id": "shape", "type": "map", "fields": {"sku": "/sku"}}]}
                """.utf8)
        ).get()
        #expect(definition.description == "Looks an order up by SKU.")
        #expect(definition.inputSchema?.json == (try JSON(parsing: Array(schema.utf8))))
        #expect(
            definition.inputSchema?.validate(.object(["sku": .int(1)])).map(\.description) == [
                "/sku: must be a string, not an integer"
            ])
        let plain = try CycleDefinition.parse(Array(#"{"name": "plain", "steps": []}"#.utf8)).get()
        #expect(plain.description == nil)
        #expect(plain.inputSchema == nil)
    }

    @Test func inputSchemaProblemsAreReportedAtTheirPointers() {
        func problems(_ members: String) -> [String] {
            guard case .failure(let failure) = CycleDefinition.parse(Array(#"{"name": "n", \#(members)}"#.utf8)) else {
                return []
            }
            return failure.problems.map(\.description)
        }
        #expect(
            problems(#""input_schema": {"type": "object", "properties": {"qty": {"type": "integer", "minimum": "1"}}}"#)
                == ["/input_schema/properties/qty/minimum: must be a number"])
        #expect(
            problems(##""input_schema": {"type": "array", "items": {"$ref": "#/x"}}"##) == [
                "/input_schema/items/$ref: $ref is not supported: references are not resolved, so write the schema out",
                #"/input_schema/type: must be "object": an MCP tool's arguments are an object"#,
            ])
        #expect(
            problems(#""input_schema": {"properties": {}}"#) == [
                #"/input_schema: an MCP tool's input schema must be an object schema, with "type": "object""#
            ])
        #expect(problems(#""input_schema": "object""#) == ["/input_schema: a schema must be an object or a boolean"])
        #expect(problems(#""description": 5, "steps": []"#) == ["/description: must be a string"])
        #expect(problems(#""description": "", "input_schema": {"type": "object"}, "steps": []"#).isEmpty)
    }

    @Test func jsonPointersFollowRFC6901() throws {
        // The examples of RFC 6901, section 5.
        let document = try JSON(
            parsing: Array(
                #"{"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8}"#
                    .utf8))
        let expected: [(String, JSON)] = [
            ("", document), ("/foo", .array([.string("bar"), .string("baz")])), ("/foo/0", .string("bar")),
            ("/", .int(0)), ("/a~1b", .int(1)), ("/c%d", .int(2)), ("/e^f", .int(3)), ("/g|h", .int(4)),
            ("/i\\j", .int(5)), ("/k\"l", .int(6)), ("/ ", .int(7)), ("/m~0n", .int(8)),
        ]
        for (text, value) in expected {
            #expect(JSONPointer(text)?.resolve(in: document) == value, "\(text)")
        }
        #expect(JSONPointer("/foo/01")?.resolve(in: document) == nil, "no leading zeros")
        #expect(JSONPointer("/foo/2")?.resolve(in: document) == nil)
        #expect(JSONPointer("/foo/-")?.resolve(in: document) == nil)
        #expect(JSONPointer("foo") == nil)
        #expect(JSONPointer("/a~2") == nil)
    }

    @Test func templatesRenderPlainTextAndNameTheStepsTheyRead() throws {
        let template = try Template("{{payload.name}} <{{steps.shape.email}}> & {{account_id}}")
        let rendered = try template.render(
            TemplateContext([
                "payload": .object(["name": .string("Ann & Bob")]),
                "steps": .object(["shape": .object(["email": .string("a@example.com")])]), "account_id": .string("acc"),
            ]))
        #expect(rendered == "Ann & Bob <a@example.com> & acc", "nothing is HTML-escaped")
        #expect(template.stepReferences == ["shape"])
        #expect(throws: TemplateError.self) { try Template("{{#open}}never closed") }
        #expect(try Template("no tags").render(TemplateContext([:])) == "no tags")
    }
}

@Suite("JSON written directly")
struct JSONWritingTests {
    @Test func objectsOfStringsRoundTripThroughTheDecoder() throws {
        let fields = [
            "content-type": "application/json", "x-quote": "say \"hi\"", "x-back": #"a\b"#,
            "x-control": "tab\tnew\nline\u{1}",
            "x-unicode": "café ✓", "": "",
        ]
        let bytes = JSON.objectBytes(fields)
        #expect(try JSONDecoder().decode([String: String].self, from: Data(bytes)) == fields)
        #expect(String(decoding: JSON.objectBytes(["b": "2", "a": "1"]), as: UTF8.self) == #"{"a":"1","b":"2"}"#)
    }
}
