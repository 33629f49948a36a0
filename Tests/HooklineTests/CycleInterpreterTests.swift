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
        // Integers past 2^53 are compared exactly, not as the doubles they round to.
        (#""equals": 9007199254740993"#, #"{"n": 9007199254740992}"#, false),
        (#""in": [9007199254740993]"#, #"{"n": 9007199254740992}"#, false),
        (#""equals": 9007199254740993"#, #"{"n": 9007199254740993}"#, true),
        (#""equals": 9007199254740992"#, #"{"n": 9007199254740992.0}"#, true),
        (#""equals": 9223372036854775807"#, #"{"n": 9223372036854775808.0}"#, false),
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
        // As received: its order, spacing and numbers (one past Int64 would come back as a double if written again).
        let received = #"{"id": 7, "big": 18446744073709551615, "a": 1.50}"#
        let claimed = job(received, id: 9)
        var run = CycleInterpreter(job: claimed, definition: definition)
        guard case .completed(.succeeded, _, let runs) = try await run.execute(effects) else {
            Issue.record("the calls did not complete")
            return
        }
        #expect(runs.isEmpty, "each call's run was saved with its checkpoint")
        let calls = effects.calls
        #expect(calls.map(\.url) == ["https://example.com/7", "https://example.com/get"])
        #expect(calls[0].body.map { String(decoding: $0, as: UTF8.self) } == received)
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

    /// A body whose text says more than its value (a key twice, bytes that are not UTF-8) is forwarded as the
    /// steps saw it: a destination whose parser keeps the first of two keys must not see what a filter on the
    /// last of them let through.
    @Test func aBodyWithAKeyTwiceIsForwardedAsTheStepsSawIt() async throws {
        let definition = try cycle(
            """
            {"name": "users", "steps": [
              {"id": "users", "type": "filter", "path": "/role", "equals": "user"},
              {"id": "post", "type": "http", "url": "https://example.com/users"}]}
            """)
        let notUTF8 = Data(#"{"role": "user", "n": ""#.utf8) + [0xFF] + Data(#""}"#.utf8)
        for (body, sent) in [
            (Data(#"{"role": "admin", "role": "user"}"#.utf8), #"{"role":"user"}"#),
            (notUTF8, "{\"n\":\"\u{FFFD}\",\"role\":\"user\"}"),
        ] {
            let effects = RecordingEffects()
            var claimed = job("")
            claimed.body = body
            var run = CycleInterpreter(job: claimed, definition: definition)
            _ = try await run.execute(effects)
            #expect(effects.calls.first?.body.map { String(decoding: $0, as: UTF8.self) } == sent, "\(body)")
        }
    }

    /// A body that says it is JSON but does not parse (a number past a double's range, a lone surrogate, nesting
    /// past 512 levels) fails the job with the reason, rather than being read as text: a filter on it would end
    /// the job `filtered` without a word, and a forwarding step would send it as a JSON string.
    @Test(arguments: [#"{"type": "order.created", "n": 1e400}"#, #"{"type": "\ud800"}"#, "{\"type\": "])
    func aBodyLabelledJSONThatDoesNotParseFailsTheJob(body: String) {
        let definition = try! cycle(
            #"{"name": "f", "steps": [{"id": "orders", "type": "filter", "path": "/type", "equals": "order.created"}]}"#
        )
        for type in ["application/json", "application/cloudevents+json; charset=utf-8"] {
            var claimed = job(body)
            claimed.contentType = type
            var run = CycleInterpreter(job: claimed, definition: definition)
            guard case .failed(let error, true, nil, nil, []) = run.executeInMemory() else {
                Issue.record("\(type) \(body) was not failed for good")
                continue
            }
            #expect(error.hasPrefix("the body is \(type) but cannot be read as JSON: invalid JSON at byte"), "\(error)")
        }
        // A body that does not say JSON (an empty or bare type among them, as a sender may give) is text, as before.
        for type in ["text/plain", "", ";", " ; charset=utf-8"] {
            var text = job(body)
            text.contentType = type
            var run = CycleInterpreter(job: text, definition: definition)
            #expect(run.executeInMemory().isFiltered, "\(type)")
        }
    }

    @Test func aFormBodyIsAnObjectOfFieldsAndAnythingElseIsText() {
        var form = job("a=1&b=x+y%21&c")
        form.contentType = "application/x-www-form-urlencoded"
        #expect(
            CycleInterpreter.payload(ofNonJSON: form)
                == .object(["a": .string("1"), "b": .string("x y!"), "c": .string("")]))
        #expect(CycleInterpreter.payload(ofNonJSON: job("not json")) == .string("not json"))
    }

    // MARK: - Fixtures

    func cycle(_ text: String) throws -> CycleDefinition {
        try CycleDefinition.parse(Array(text.utf8)).get()
    }

    func job(_ body: String, id: Int64 = 1) -> ClaimedJob {
        ClaimedJob(
            id: id, accountID: UUID(), webhookID: nil, cycleID: UUID(), cycleVersion: 1, attempt: 1, maxAttempts: 6,
            nextStep: 0, stepOutputs: PostgresJSON(rawJSON: "{}"), headers: PostgresJSON(rawJSON: "{}"),
            contentType: "application/json", body: Data(body.utf8), receivedAt: Date(), lockedUntil: Date())
    }

    func outputs(_ checkpoint: StepCheckpoint) throws -> String {
        String(decoding: try JSON(parsing: checkpoint.outputs.bytes).bytes, as: UTF8.self)
    }
}

extension JobResult {
    fileprivate var isFiltered: Bool {
        if case .completed(.filtered, _, _) = self { return true }
        return false
    }
}
