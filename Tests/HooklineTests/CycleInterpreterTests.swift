import Foundation
import Postgres
import Synchronization
import Testing

@testable import Hookline

/// The cycle interpreter on its own: filter, map, templates, pointers and what each step with effects asks of
/// ``CycleEffects``, with effects kept in memory. No database, no network.
@Suite("The cycle interpreter, without a database")
struct CycleInterpreterTests {
    @Test func aFilterThatDoesNotMatchEndsTheRunFilteredAndOneThatMatchesGoesOn() async throws {
        let definition = try cycle(
            #"{"name": "f", "steps": [{"id": "orders", "type": "filter", "path": "/type", "equals": "order.created"}]}"#
        )
        let effects = RecordingEffects()
        var refund = CycleInterpreter(job: job(#"{"type": "refund.created"}"#), definition: definition)
        guard case .completed(.filtered, let checkpoint?, let runs) = try await refund.execute(effects) else {
            Issue.record("a refund passed the filter")
            return
        }
        #expect(checkpoint.nextStep == 0)
        #expect(runs.map(\.outcome) == [.filtered])
        var order = CycleInterpreter(job: job(#"{"type": "order.created"}"#), definition: definition)
        guard case .completed(.succeeded, let checkpoint?, _) = try await order.execute(effects) else {
            Issue.record("an order did not pass the filter")
            return
        }
        #expect(try outputs(checkpoint) == #"{"orders":{"matched":true}}"#)
        #expect(effects.events.isEmpty, "filters ask nothing of the effects")
    }

    @Test(arguments: [
        (#""gt": 5"#, #"{"n": "7"}"#, true),  // a number as text counts as the number
        (#""gt": 5"#, #"{"n": 5}"#, false),
        (#""lte": 5"#, #"{"n": 5}"#, true),
        (#""in": ["a", "b"]"#, #"{"n": "b"}"#, true),
        (#""in": ["a", "b"]"#, #"{"n": "c"}"#, false),
        (#""exists": false"#, #"{"n": null}"#, true),
        (#""exists": true"#, #"{}"#, false),
        (#""not_equals": 1"#, #"{"n": 1.0}"#, false),  // 1 and 1.0 are one number
        (#""equals": {"a": [1]}"#, #"{"n": {"a": [1]}}"#, true),
    ])
    func filterConditions(condition: String, payload: String, passes: Bool) async throws {
        let definition = try cycle(
            #"{"name": "f", "steps": [{"id": "c", "type": "filter", "path": "/n", \#(condition)}]}"#)
        var run = CycleInterpreter(job: job(payload), definition: definition)
        guard case .completed(let outcome, _, _) = run.executeInMemory() else {
            Issue.record("the filter did not complete")
            return
        }
        #expect(outcome == (passes ? .succeeded : .filtered), "\(condition) on \(payload)")
    }

    @Test func aMapBuildsItsObjectFromPointersTemplatesLiteralsAndEarlierSteps() async throws {
        let definition = try cycle(
            """
            {"name": "m", "steps": [
              {"id": "first", "type": "map", "fields": {"sku": "/items/0/sku", "missing": "/nope"}},
              {"id": "second", "type": "map", "fields": {
                "from_first": {"pointer": "/sku", "from": "first"},
                "note": "{{payload.customer}} bought {{steps.first.sku}} (job {{job_id}})",
                "count": 3, "flag": {"value": "/not-a-pointer"},
                "nested": {"template": "x"}, "escaped": "~1 \\u00e9"}}
            ]}
            """)
        var run = CycleInterpreter(
            job: job(#"{"customer": "Ada", "items": [{"sku": "TEE"}]}"#, id: 42), definition: definition)
        guard case .completed(.succeeded, let checkpoint?, let runs) = run.executeInMemory() else {
            Issue.record("the map did not complete")
            return
        }
        #expect(runs.map(\.stepID) == ["first", "second"])
        let object = try JSON(parsing: checkpoint.outputs.bytes).object ?? [:]
        #expect(object["first"] == .object(["sku": .string("TEE"), "missing": .null]))
        let second = object["second"]?.object ?? [:]
        #expect(second["from_first"] == .string("TEE"))
        #expect(second["note"] == .string("Ada bought TEE (job 42)"))
        #expect(second["count"] == .int(3))
        #expect(second["flag"] == .string("/not-a-pointer"))
        #expect(second["nested"] == .string("x"))
        #expect(second["escaped"] == .string("~1 é"))
    }

    @Test func aLookupAsksTheEffectsForTheRenderedKeysAndMissingOnesAreNull() async throws {
        let definition = try cycle(
            #"{"name": "l", "steps": [{"id": "m", "type": "map", "fields": {"crm": {"lookup": "sku-{{payload.sku}}"}, "gone": {"lookup": "x"}}}]}"#
        )
        #expect(!definition.runsInMemory(from: 0), "a lookup is I/O")
        let effects = RecordingEffects(stored: ["sku-TEE": .string("crm-7")])
        var run = CycleInterpreter(job: job(#"{"sku": "TEE"}"#), definition: definition)
        guard case .completed(.succeeded, let checkpoint?, _) = try await run.execute(effects) else {
            Issue.record("the map did not complete")
            return
        }
        #expect(try outputs(checkpoint) == #"{"m":{"crm":"crm-7","gone":null}}"#)
        #expect(effects.events.count == 1)
        #expect(effects.events.first?.hasPrefix("lookup ") == true)
        #expect(effects.events.first?.contains("sku-TEE") == true)
    }

    @Test func anHTTPStepWithABodyMethodAndNoBodyForwardsThePayloadAndIsCheckpointed() async throws {
        let definition = try cycle(
            """
            {"name": "h", "steps": [
              {"id": "post", "type": "http", "method": "POST", "url": "https://example.com/{{payload.id}}",
               "headers": {"X-Account": "{{account_id}}"}},
              {"id": "get", "type": "http", "method": "GET", "url": "https://example.com/get"}
            ]}
            """)
        let effects = RecordingEffects()
        let claimed = job(#"{"id": 7}"#, id: 9)
        var run = CycleInterpreter(job: claimed, definition: definition)
        guard case .completed(.succeeded, _, let runs) = try await run.execute(effects) else {
            Issue.record("the calls did not complete")
            return
        }
        #expect(runs.isEmpty, "each call's run was saved with its checkpoint")
        let calls = effects.calls
        #expect(calls.map(\.url) == ["https://example.com/7", "https://example.com/get"])
        #expect(calls[0].body.map { String(decoding: $0, as: UTF8.self) } == #"{"id":7}"#)
        #expect(
            calls[0].headers == [
                .init("X-Account", claimed.accountID.lowercased), .init("Content-Type", "application/json"),
                .init("Idempotency-Key", "9-post"),
            ])
        #expect(calls[1].body == nil)
        #expect(
            effects.events.filter { !$0.hasPrefix("call ") } == [
                "start post", "save next 1 runs [post succeeded 200] none", "start get",
                "save next 2 runs [get succeeded 200] none",
            ])
    }

    @Test(arguments: ["retry", "stop", "ignore"])
    func aFailedCallFollowsOnError(onError: String) async throws {
        let definition = try cycle(
            """
            {"name": "e", "on_error": "\(onError)", "steps": [
              {"id": "call", "type": "http", "method": "GET", "url": "https://example.com/"},
              {"id": "after", "type": "map", "fields": {"status": {"pointer": "/status", "from": "call"}}}
            ]}
            """)
        let failure = StepFailure(
            message: "GET example.com answered 503", permanent: false, retryAfter: 30, httpStatus: 503,
            output: .object(["status": .int(503)]))
        let effects = RecordingEffects(failure: failure)
        var run = CycleInterpreter(job: job("{}"), definition: definition)
        let result = try await run.execute(effects)
        switch (onError, result) {
        case ("retry", .failed(let error, false, let retryAfter, let checkpoint?, let runs)):
            #expect(error == "step call: GET example.com answered 503")
            #expect(retryAfter == 30, "the other side's Retry-After")
            #expect(checkpoint.nextStep == 0, "a retry resumes at the failed step")
            #expect(runs.map(\.outcome) == [.retry])
            #expect(runs.first?.rowID != nil, "the run written at the start is finished")
        case ("stop", .failed(_, true, _, let checkpoint?, let runs)):
            #expect(checkpoint.nextStep == 0)
            #expect(runs.map(\.outcome) == [.failed])
        case ("ignore", .completed(.succeeded, let checkpoint?, let runs)):
            #expect(try outputs(checkpoint).contains(#""after":{"status":503}"#))
            #expect(runs.map(\.outcome) == [.ignored, .succeeded])
        default:
            Issue.record("on_error \(onError) came to \(result)")
        }
    }

    @Test func aSplitHandsItsChildrenToTheEffectsWithOnlyTheOutputsTheyRead() async throws {
        let definition = try cycle(
            """
            {"name": "s", "steps": [
              {"id": "big", "type": "map", "fields": {"blob": "/blob"}},
              {"id": "small", "type": "map", "fields": {"n": 1}},
              {"id": "each", "type": "split", "path": "/items", "max_items": 3},
              {"id": "use", "type": "map", "fields": {"n": {"pointer": "/n", "from": "small"}}}
            ]}
            """)
        let effects = RecordingEffects()
        var run = CycleInterpreter(
            job: job(#"{"blob": "\#(String(repeating: "x", count: 1000))", "items": [1, {"a": 2}]}"#),
            definition: definition)
        #expect(try await run.execute(effects) == .completed(outcome: .split))
        #expect(
            effects.events.last
                == #"save next 4 runs [big succeeded, small succeeded, each succeeded] children from 3 outputs {"small":{"n":1}} headers false: 1 | {"a":2}"#
        )
    }

    @Test func aSplitOverMaxItemsEndsDeadAndMakesNoChild() async throws {
        let definition = try cycle(
            #"{"name": "s", "on_error": "ignore", "steps": [{"id": "each", "type": "split", "path": "/items", "max_items": 2}]}"#
        )
        let effects = RecordingEffects()
        var run = CycleInterpreter(job: job(#"{"items": [1, 2, 3]}"#), definition: definition)
        guard case .failed(let error, true, _, _, _) = try await run.execute(effects) else {
            Issue.record("a split over max_items did not fail for good")
            return
        }
        #expect(error.contains("more than max_items (2)"))
        #expect(effects.events.isEmpty, "no child, no write")
    }

    @Test func storeAndDelayAreWrittenWithTheirCheckpoints() async throws {
        let definition = try cycle(
            """
            {"name": "sd", "steps": [
              {"id": "keep", "type": "store", "key": "order-{{payload.id}}", "value": "/total"},
              {"id": "wait", "type": "delay", "seconds": 2.5}
            ]}
            """)
        let effects = RecordingEffects()
        let claimed = job(#"{"id": 3, "total": 12.5}"#)
        var run = CycleInterpreter(job: claimed, definition: definition)
        #expect(try await run.execute(effects) == .postponed)
        #expect(
            effects.events == [
                "save next 1 runs [keep succeeded] store order-3 = 12.5",
                "save next 2 runs [wait succeeded] postpone 2.5",
            ])
        // The job comes back after its delay, past the delay step: nothing is stored twice.
        var resumed = claimed
        resumed.nextStep = 2
        var again = CycleInterpreter(job: resumed, definition: definition)
        let done = StepCheckpoint(nextStep: 2, outputs: PostgresJSON(rawJSON: "{}"))
        #expect(try await again.execute(effects) == .completed(outcome: .succeeded, checkpoint: done, runs: []))
        #expect(effects.events.count == 2)
    }

    @Test func aFormBodyIsAnObjectOfFieldsAndAnythingElseIsText() {
        var form = job("a=1&b=x+y%21&c")
        form.contentType = "application/x-www-form-urlencoded"
        #expect(
            CycleInterpreter.payload(of: form) == .object(["a": .string("1"), "b": .string("x y!"), "c": .string("")]))
        #expect(CycleInterpreter.payload(of: job("not json")) == .string("not json"))
    }

    /// `plusone` and `minusone` past the ends of a 64-bit integer render nothing, as a transform that does not
    /// apply does, instead of trapping: the payload's number comes from the sender, and a trap ends the
    /// worker process with every job it runs.
    @Test func integerTransformsPastTheEndsRenderNothing() throws {
        let definition = try cycle(
            #"{"name": "t", "steps": [{"id": "m", "type": "map", "fields": {"up": "[{{plusone(payload.big)}}]", "down": "[{{minusone(payload.small)}}]", "next": "{{plusone(payload.n)}} {{minusone(payload.n)}} {{#even(payload.n)}}even{{/even(payload.n)}}"}}]}"#
        )
        var run = CycleInterpreter(
            job: job(#"{"big": 9223372036854775807, "small": -9223372036854775808, "n": 41}"#), definition: definition)
        guard case .completed(.succeeded, let checkpoint?, _) = run.executeInMemory() else {
            Issue.record("the map did not complete")
            return
        }
        #expect(try outputs(checkpoint) == #"{"m":{"down":"[]","next":"42 40 ","up":"[]"}}"#)
    }

    /// Templates whose sections multiply (nested over one array) or repeat a large value fail their step, for
    /// good, once they would render more than their budget: they cannot hold a worker or its memory.
    @Test(arguments: [
        ("{{#payload.a}}{{#payload.a}}{{#payload.a}}x{{/payload.a}}{{/payload.a}}{{/payload.a}}", false),
        ("{{#payload.a}}{{payload.big}}{{/payload.a}}", false),
        ("{{#payload.a}}{{uppercased(payload.big)}}{{/payload.a}}", false),
        ("{{#payload.a}}{{payload}}{{/payload.a}}", false),
        ("{{#payload.a}}{{#payload.a}}{{payload.a}}{{/payload.a}}{{/payload.a}}", false),
        ("{{#payload.a}}{{^uppercased(payload.big)}}{{/uppercased(payload.big)}}{{/payload.a}}", false),
        (
            "{{#sorted(payload.o)}}{{#sorted(payload.o)}}{{#sorted(payload.o)}}x{{/sorted(payload.o)}}{{/sorted(payload.o)}}{{/sorted(payload.o)}}",
            false
        ),
        ("{{#payload.a}}{{.}},{{/payload.a}}", true),
        // A long template with a short section: each round counts the section, not the whole template.
        (String(repeating: "-", count: 50_000) + "{{#payload.a}}{{.}},{{/payload.a}}", true),
    ])
    func templatesPastTheirBudgetFailTheirStep(template: String, fits: Bool) throws {
        let definition = try cycle(
            #"{"name": "t", "retry": {"max_attempts": 5}, "steps": [{"id": "m", "type": "map", "fields": {"out": "\#(template)"}}]}"#
        )
        let items = (0..<400).map(String.init).joined(separator: ",")
        let big = String(repeating: "b", count: 100_000)
        let members = (0..<400).map { #""k\#($0)": \#($0)"# }.joined(separator: ",")
        var run = CycleInterpreter(
            job: job(#"{"a": [\#(items)], "big": "\#(big)", "o": {\#(members)}}"#), definition: definition)
        switch run.executeInMemory() {
        case .completed(.succeeded, let checkpoint?, _):
            #expect(fits, "rendered in full: \(template)")
            if fits {
                let out = try JSON(parsing: checkpoint.outputs.bytes).object?["m"]?.object?["out"]?.string
                #expect(out?.hasSuffix("397,398,399,") == true)
            }
        case .failed(let error, let permanent, _, _, _):
            #expect(!fits, "\(template): \(error)")
            #expect(permanent)
            #expect(error.contains("step m: its templates would render more than"), "\(error)")
        case let other:
            Issue.record("\(other)")
        }
    }

    /// Whole arrays and objects, transforms and sections over an object's members render as the template
    /// library rendered Swift's own arrays and dictionaries.
    @Test func wholeValuesAndTransformsRenderAsBefore() throws {
        let definition = try cycle(
            #"{"name": "t", "steps": [{"id": "m", "type": "map", "fields": {"list": "{{payload.l}}", "object": "{{payload.o}}", "empty": "{{payload.e}}|{{payload.n}}", "members": "{{#sorted(payload.p)}}{{key}}={{value}};{{/sorted(payload.p)}}", "pairs": "{{#sorted(payload.p)}}{{.}}{{/sorted(payload.p)}}", "counts": "{{count(payload.l)}} {{count(payload.p)}} {{first(payload.l)}} {{last(payload.l)}}", "text": "{{uppercased(payload.s)}} {{#reversed(payload.r)}}{{.}}{{/reversed(payload.r)}}"}}]}"#
        )
        var run = CycleInterpreter(
            job: job(
                #"{"l": ["a", 1, 2.5, true], "o": {"k": "v"}, "e": [], "n": {}, "p": {"b": 2, "a": "x"}, "s": "hi", "r": [1, 2, 3]}"#
            ), definition: definition)
        guard case .completed(.succeeded, let checkpoint?, _) = run.executeInMemory() else {
            Issue.record("the map did not complete")
            return
        }
        let out = try JSON(parsing: checkpoint.outputs.bytes).object?["m"]?.object ?? [:]
        #expect(out["list"] == .string(#"["a", 1, 2.5, true]"#))
        #expect(out["object"] == .string(#"["k": "v"]"#))
        #expect(out["empty"] == .string("[]|[:]"))
        #expect(out["members"] == .string("a=x;b=2;"))
        #expect(out["pairs"] == .string(#"(key: "a", value: "x")(key: "b", value: 2)"#))
        #expect(out["counts"] == .string("4 2 a true"))
        #expect(out["text"] == .string("HI 321"))
    }

    /// A section's round counts its own body: the longest section of the template, or all of it when the
    /// sections cannot be told apart as the template library tells them.
    @Test func aRoundCountsTheLongestSectionBody() throws {
        #expect(TemplateTags.longestSection("no sections") == 1)
        #expect(TemplateTags.longestSection("head {{#a}}12345{{/a}} tail") == 5)
        #expect(TemplateTags.longestSection("{{#a}}x{{#b}}123{{/b}}y{{/a}}") == 17)
        #expect(TemplateTags.longestSection("{{^a}}12{{/a}}{{{raw}}}") == 2)
        // A run of braces after a tag is text the section renders every round.
        #expect(TemplateTags.longestSection("{{#a}}}}}}}}}}{{/a}}") == 8)
        #expect(TemplateTags.longestSection("{{#a}}{{{x}}}}}}{{/a}}") == 10)
        let whole = ["{{=<% %>=}}<%#a%>1<%/a%>", "{{#a}}never closed", "{{\u{301} {{#a}}xxxx{{\u{301} {{/a}}"]
        for text in whole {
            #expect(TemplateTags.longestSection(text) == text.utf8.count, "\(text.debugDescription): the whole text")
        }
        // Partials, parents and blocks are refused: nothing to include, and a block's indentation repeats on
        // every line of it, which no round accounts for.
        for text in ["{{>other}}", "{{<parent}}{{/parent}}", "x\n  {{$b}}\n{{/b}}"] {
            #expect(throws: TemplateError.self, "\(text.debugDescription)") { try Template(text) }
        }
        _ = try Template("{{&raw}} {{!comment}} {{#a}}{{.}}{{/a}}")
    }

    // MARK: - Fixtures

    private func cycle(_ text: String) throws -> CycleDefinition {
        try CycleDefinition.parse(Array(text.utf8)).get()
    }

    private func job(_ body: String, id: Int64 = 1) -> ClaimedJob {
        ClaimedJob(
            id: id, accountID: UUID(), webhookID: nil, cycleID: UUID(), cycleVersion: 1, attempt: 1, maxAttempts: 6,
            nextStep: 0, stepOutputs: PostgresJSON(rawJSON: "{}"), headers: PostgresJSON(rawJSON: "{}"),
            contentType: "application/json", body: Data(body.utf8), receivedAt: Date(), lockedUntil: Date())
    }

    private func outputs(_ checkpoint: StepCheckpoint) throws -> String {
        String(decoding: try JSON(parsing: checkpoint.outputs.bytes).bytes, as: UTF8.self)
    }
}

/// Effects that keep what they are asked, as lines, and answer calls with 200 (or a given failure).
private final class RecordingEffects: CycleEffects {
    private let log = Mutex<[String]>([])
    private let requests = Mutex<[OutboundRequest]>([])
    private let stored: [String: JSON]
    private let failure: StepFailure?

    init(stored: [String: JSON] = [:], failure: StepFailure? = nil) {
        self.stored = stored
        self.failure = failure
    }

    var events: [String] { log.withLock { $0 } }
    var calls: [OutboundRequest] { requests.withLock { $0 } }

    func storedValues(cycle: UUID, keys: [String]) async throws -> [String: JSON] {
        log.withLock { $0.append("lookup \(keys.sorted())") }
        return stored.filter { keys.contains($0.key) }
    }

    func startStep(job: Int64, step: String, attempt: Int, at started: Date) async throws -> Int64 {
        log.withLock { $0.append("start \(step)") }
        return 1000
    }

    func call(_ request: OutboundRequest) async throws -> OutboundResponse {
        log.withLock { $0.append("call \(request.method) \(request.url)") }
        requests.withLock { $0.append(request) }
        if let failure { throw failure }
        return OutboundResponse(status: 200, output: .object(["status": .int(200)]))
    }

    func save(job: Int64, _ checkpoint: StepCheckpoint, runs: [StepRunRecord], with write: CheckpointWrite)
        async throws
    {
        let shown = runs.map { "\($0.stepID) \($0.outcome.rawValue)" + ($0.httpStatus.map { " \($0)" } ?? "") }
        let what: String
        switch write {
        case .none: what = "none"
        case .store(_, let key, let value): what = "store \(key) = \(String(decoding: value.bytes, as: UTF8.self))"
        case .children(let next, let outputs, let bodies, let headers):
            what =
                "children from \(next) outputs \(String(decoding: outputs.bytes, as: UTF8.self)) headers \(headers): "
                + bodies.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " | ")
        case .postpone(let seconds): what = "postpone \(seconds)"
        }
        log.withLock { $0.append("save next \(checkpoint.nextStep) runs [\(shown.joined(separator: ", "))] \(what)") }
    }
}
