import Foundation
import Hookline
import HooklineWorker
import Logging
import Postgres
import TestSupport
import Testing

/// Cycles run by a real worker (in this process) against a real database, calling a local receiver.
@Suite("Cycles: each step type, checkpoints, on_error, versions")
struct CycleRunnerTests {
    @Test func filterMapHTTPStoreAndLookupRunInOrderWithAStepLog() async throws {
        let receiver = Receiver { _, _ in (200, ["Content-Type": "application/json"], #"{"crm_id":"c-17"}"#) }
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let cycle = try await fixture.cycle(
                    """
                    {"name": "orders-to-crm", "steps": [
                      {"id": "orders", "type": "filter", "path": "/type", "equals": "order.created"},
                      {"id": "shape", "type": "map", "fields": {"sku": "/data/sku", "qty": "/data/quantity",
                        "note": "for {{payload.data.customer}}", "source": {"value": "hookline"}}},
                      {"id": "send", "type": "http", "method": "POST", "url": "\(base)/orders",
                       "headers": {"X-Account": "{{account_id}}", "X-Job": "job-{{job_id}}",
                                   "X-Source": "{{headers.x-source}}"}, "body_from": "shape"},
                      {"id": "keep", "type": "store", "key": "{{steps.shape.sku}}", "value_from": "send"},
                      {"id": "recall", "type": "map", "fields": {"kept": {"lookup": "{{steps.shape.sku}}"}}}
                    ]}
                    """)
                let order = try await fixture.enqueue(
                    cycle, #"{"type": "order.created", "data": {"sku": "A-1", "quantity": 2, "customer": "Ann"}}"#,
                    headers: #"{"x-source": "shop"}"#)
                let refund = try await fixture.enqueue(cycle, #"{"type": "refund.created", "data": {}}"#)
                try await fixture.work { try await fixture.finished([order, refund]).count == 2 }

                let finished = try await fixture.finished([order, refund])
                #expect(finished[order]?.outcome == "succeeded")
                #expect(finished[refund]?.outcome == "filtered")
                let requests = receiver.requests(to: "/orders")
                #expect(requests.count == 1)
                let sent = try JSON(parsing: Array(requests[0].body.utf8))
                #expect(
                    sent
                        == .object([
                            "sku": .string("A-1"), "qty": .int(2), "note": .string("for Ann"),
                            "source": .string("hookline"),
                        ]))
                #expect(requests[0].headers["x-account"] == fixture.account.lowercased)
                #expect(requests[0].headers["x-job"] == "job-\(order)")
                #expect(requests[0].headers["x-source"] == "shop", "a template over the delivery's headers")
                #expect(requests[0].headers["idempotency-key"] == "\(order)-send")
                #expect(requests[0].headers["content-type"] == "application/json")

                let outputs = try #require(finished[order]?.outputs)
                #expect(outputs["send"]?["status"] == .int(200))
                #expect(outputs["send"]?["body"] == .object(["crm_id": .string("c-17")]))
                #expect(outputs["recall"]?["kept"]?["body"] == .object(["crm_id": .string("c-17")]))
                let kept = try await fixture.database.client.query(
                    "SELECT value FROM hookline.cycle_data WHERE cycle_id = \(cycle.id) AND key = 'A-1'")
                #expect(
                    try JSON(parsing: kept[0].decode(PostgresJSON.self, at: 0).bytes)["body"]?["crm_id"]
                        == .string("c-17"))

                #expect(
                    try await fixture.stepRuns(order).map {
                        "\($0.step) \($0.outcome) \($0.status.map(String.init) ?? "-")"
                    }
                        == [
                            "orders succeeded -", "shape succeeded -", "send succeeded 200", "keep succeeded -",
                            "recall succeeded -",
                        ])
                #expect(try await fixture.stepRuns(refund).map(\.outcome) == ["filtered"])
            }
        }
    }

    @Test func jobsOfAKnownPureCycleRunInMemoryWithTheSameResultsAndAreRecorded() async throws {
        try await CycleFixture.with { fixture in
            let cycle = try await fixture.cycle(
                """
                {"name": "pure", "steps": [
                  {"id": "orders", "type": "filter", "path": "/type", "equals": "order.created"},
                  {"id": "shape", "type": "map", "fields": {"n": "/n", "note": "n={{payload.n}} job {{job_id}}"}}
                ]}
                """)
            let lookup = try await fixture.cycle(
                #"{"name": "lookup", "steps": [{"id": "m", "type": "map", "fields": {"k": {"lookup": "x"}}}]}"#)
            let definitions = CycleDefinitions(database: fixture.database.client)
            let caller = HTTPCaller(allowPrivateDestinations: false)
            defer { Task { try await caller.shutdown() } }
            let runner = CycleRunner(database: fixture.database.client, definitions: definitions, caller: caller)
            let queue = JobQueue(database: fixture.database.client)
            for n in 0..<6 {
                _ = try await fixture.enqueue(
                    cycle, #"{"type": "\#(n % 3 == 0 ? "refund" : "order").created", "n": \#(n)}"#)
            }
            _ = try await fixture.enqueue(lookup, "{}")
            let jobs = try await queue.claim(limit: 10, worker: "w", leaseSeconds: 30)
            #expect(jobs.count == 7)
            // Not before the definition is known (reading it is I/O), never for a cycle with a lookup. The
            // claim reads the definitions it lacks in its own transaction (prepareInMemory); a version that
            // is gone is left to the job's run.
            #expect(jobs.allSatisfy { runner.runInMemory($0, worker: "w") == nil })
            var gone = jobs[0]
            gone.cycleVersion = 99
            let claimed = jobs + [gone]
            try await fixture.database.client.withConnection { connection in
                try runner.prepareInMemory(claimed, on: connection)
            }
            #expect(definitions.cached(for: gone) == nil)
            for job in jobs {
                let inMemory = runner.runInMemory(job, worker: "w")
                if job.cycleID == lookup.id {
                    #expect(inMemory == nil)
                    continue
                }
                let expected = try await runner.run(job, worker: "w")
                guard case .completed(let outcome, let checkpoint, let runs)? = inMemory,
                    case .completed(let wantedOutcome, let wantedCheckpoint, let wantedRuns) = expected
                else {
                    Issue.record("job \(job.id): \(String(describing: inMemory)) against \(expected)")
                    continue
                }
                #expect(outcome == wantedOutcome)
                #expect(checkpoint == wantedCheckpoint)
                #expect(runs.map { "\($0.stepID) \($0.outcome)" } == wantedRuns.map { "\($0.stepID) \($0.outcome)" })
            }
            try await fixture.database.client.query("DELETE FROM hookline.jobs")

            // Through a worker: every job runs in memory inside its claim and lands in history with its
            // outputs and step runs.
            let first = try await fixture.enqueue(cycle, #"{"type": "order.created", "n": 100}"#)
            var rest: [Int64] = []
            try await fixture.work {
                guard try await fixture.finished([first]).count == 1 else { return false }
                if rest.isEmpty {
                    for n in 0..<40 {
                        rest.append(
                            try await fixture.enqueue(
                                cycle, #"{"type": "\#(n % 4 == 0 ? "refund" : "order").created", "n": \#(n)}"#))
                    }
                }
                return try await fixture.finished(rest).count == rest.count
            }
            let finished = try await fixture.finished(rest)
            for (n, id) in rest.enumerated() {
                let passes = n % 4 != 0
                #expect(finished[id]?.outcome == (passes ? "succeeded" : "filtered"))
                #expect(finished[id]?.attempt == 1, "finished in the claim's transaction, the attempt counted")
                if passes {
                    #expect(finished[id]?.outputs["shape"]?.object?["note"] == .string("n=\(n) job \(id)"))
                }
                let runs = try await fixture.stepRuns(id)
                #expect(runs.map(\.step) == (passes ? ["orders", "shape"] : ["orders"]))
            }
        }
    }

    @Test func everyFilterConditionPassesAndStopsWhatItShould() async throws {
        try await CycleFixture.with { fixture in
            let payload = #"{"type": "a", "amount": "12.5", "count": 3, "tags": null}"#
            let cases: [(String, Bool)] = [
                (#""path": "/type", "equals": "a""#, true), (#""path": "/type", "equals": "b""#, false),
                (#""path": "/type", "not_equals": "b""#, true), (#""path": "/type", "in": ["x", "a"]"#, true),
                (#""path": "/type", "in": ["x"]"#, false), (#""path": "/count", "exists": true"#, true),
                (#""path": "/tags", "exists": true"#, false), (#""path": "/missing", "exists": false"#, true),
                (#""path": "/count", "gt": 2"#, true), (#""path": "/count", "gte": 4"#, false),
                (#""path": "/amount", "lt": 13"#, true), (#""path": "/amount", "lte": 12"#, false),
                (#""path": "/count", "equals": 3.0"#, true),
            ]
            var jobs: [(Int64, Bool, String)] = []
            for (index, (condition, passes)) in cases.enumerated() {
                let cycle = try await fixture.cycle(
                    #"{"name": "f\#(index)", "steps": [{"id": "f", "type": "filter", \#(condition)}]}"#)
                jobs.append((try await fixture.enqueue(cycle, payload), passes, condition))
            }
            try await fixture.work { try await fixture.finished(jobs.map(\.0)).count == jobs.count }
            let finished = try await fixture.finished(jobs.map(\.0))
            for (id, passes, condition) in jobs {
                #expect(finished[id]?.outcome == (passes ? "succeeded" : "filtered"), "\(condition)")
            }
        }
    }

    @Test func splitMakesOneChildPerElementThatRunsTheRemainingSteps() async throws {
        let receiver = Receiver()
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let cycle = try await fixture.cycle(
                    """
                    {"name": "items", "steps": [
                      {"id": "named", "type": "map", "fields": {"order": "/order"}},
                      {"id": "each", "type": "split", "path": "/items"},
                      {"id": "send", "type": "http", "url": "\(base)/items",
                       "body": {"sku": "{{payload.sku}}", "order": "{{steps.named.order}}"}}
                    ]}
                    """)
                let parent = try await fixture.enqueue(
                    cycle, #"{"order": "o-1", "items": [{"sku": "a"}, {"sku": "b"}, {"sku": "c"}]}"#)
                try await fixture.work {
                    try await fixture.database.client.query(
                        "SELECT count(*) FROM hookline.job_history WHERE parent_id = \(parent)"
                    )[0].decode(Int.self, at: 0) == 3
                }
                let parentRow = try #require(try await fixture.finished([parent])[parent])
                #expect(parentRow.outcome == "split")
                #expect(parentRow.outputs["each"] == .object(["children": .int(3)]))
                let bodies = try receiver.requests(to: "/items").map { try JSON(parsing: Array($0.body.utf8)) }
                #expect(
                    Set(bodies)
                        == Set(["a", "b", "c"].map { JSON.object(["sku": .string($0), "order": .string("o-1")]) }))
                let children = try await fixture.database.client.query(
                    "SELECT state, outcome FROM hookline.job_history WHERE parent_id = \(parent)"
                ).map { try $0.decode((String, String?).self) }
                #expect(children.allSatisfy { $0.0 == "completed" && $0.1 == "succeeded" })
            }
        }
    }

    @Test func aRetryResumesAtTheFailedStepWithoutRepeatingTheCallsBeforeIt() async throws {
        let receiver = Receiver { path, count in
            if path == "/two", count < 3 { return (503, ["Retry-After": "0"], "busy") }
            return (200, [:], "fine")
        }
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let cycle = try await fixture.cycle(
                    """
                    {"name": "two-calls", "retry": {"max_attempts": 5, "backoff_seconds": 30}, "steps": [
                      {"id": "one", "type": "http", "url": "\(base)/one"},
                      {"id": "two", "type": "http", "url": "\(base)/two"}
                    ]}
                    """)
                let id = try await fixture.enqueue(cycle, "{}")
                try await fixture.work(within: .seconds(30)) { try await fixture.finished([id]).count == 1 }
                #expect(receiver.requests(to: "/one").count == 1, "a completed call is not repeated")
                #expect(receiver.requests(to: "/two").count == 3)
                let job = try #require(try await fixture.finished([id])[id])
                #expect(job.state == "completed")
                #expect(job.attempt == 3, "Retry-After: 0 was honoured instead of the 30 s backoff")
                #expect(job.outputs["two"]?["body"] == .string("fine"))
                #expect(
                    try await fixture.stepRuns(id).map { "\($0.step) \($0.attempt) \($0.outcome) \($0.status ?? 0)" }
                        == ["one 1 succeeded 200", "two 1 retry 503", "two 2 retry 503", "two 3 succeeded 200"])
            }
        }
    }

    @Test func aPermanentClientErrorEndsTheJobDeadWithTheStatusInItsError() async throws {
        let receiver = Receiver { _, _ in (422, [:], #"{"error":"unknown sku"}"#) }
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let cycle = try await fixture.cycle(
                    #"{"name": "bad", "steps": [{"id": "send", "type": "http", "url": "\#(base)/bad"}]}"#)
                let id = try await fixture.enqueue(cycle, "{}")
                try await fixture.work { try await fixture.finished([id]).count == 1 }
                let job = try #require(try await fixture.finished([id])[id])
                #expect(job.state == "dead")
                #expect(job.attempt == 1)
                #expect(job.lastError?.contains("answered 422") == true, "\(job.lastError ?? "")")
                #expect(receiver.requests(to: "/bad").count == 1)
                #expect(try await fixture.stepRuns(id).map { "\($0.outcome) \($0.status ?? 0)" } == ["failed 422"])
            }
        }
    }

    @Test func onErrorIgnoreGoesOnAndStopEndsTheJobDead() async throws {
        let receiver = Receiver { path, _ in
            switch path {
            case "/bad": (422, [:], "no")
            case "/flaky": (503, [:], "later")
            default: (200, [:], "ok")
            }
        }
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let ignoring = try await fixture.cycle(
                    """
                    {"name": "ignoring", "on_error": "ignore", "steps": [
                      {"id": "bad", "type": "http", "url": "\(base)/bad"},
                      {"id": "after", "type": "http", "url": "\(base)/after", "body": {"before": "{{steps.bad.status}}"}}
                    ]}
                    """)
                let stopping = try await fixture.cycle(
                    """
                    {"name": "stopping", "on_error": "stop", "steps": [
                      {"id": "flaky", "type": "http", "url": "\(base)/flaky"},
                      {"id": "after", "type": "http", "url": "\(base)/never"}
                    ]}
                    """)
                let ignored = try await fixture.enqueue(ignoring, "{}")
                let stopped = try await fixture.enqueue(stopping, "{}")
                try await fixture.work { try await fixture.finished([ignored, stopped]).count == 2 }
                let finished = try await fixture.finished([ignored, stopped])
                #expect(finished[ignored]?.state == "completed")
                #expect(try await fixture.stepRuns(ignored).map(\.outcome) == ["ignored", "succeeded"])
                #expect(receiver.requests(to: "/after").map(\.body) == [#"{"before":"422"}"#])
                #expect(finished[stopped]?.state == "dead")
                #expect(finished[stopped]?.attempt == 1, "stop does not retry even a retryable failure")
                #expect(receiver.requests(to: "/never").isEmpty)
                #expect(try await fixture.stepRuns(stopped).map(\.outcome) == ["failed"])
            }
        }
    }

    @Test func queuedJobsFinishOnTheVersionTheyWereAcceptedUnder() async throws {
        let receiver = Receiver()
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let v1 = try await fixture.cycle(
                    #"{"name": "pinned", "steps": [{"id": "send", "type": "http", "url": "\#(base)/v1"}]}"#)
                let early = try await fixture.enqueue(v1, "{}")
                let v2 = try await CycleStore(database: fixture.database.client).update(
                    v1.id,
                    definition: Array(
                        #"{"name": "pinned", "steps": [{"id": "send", "type": "http", "url": "\#(base)/v2"}]}"#.utf8))
                #expect(v2.version == 2)
                let late = try await fixture.enqueue(v2, "{}")
                try await fixture.work { try await fixture.finished([early, late]).count == 2 }
                #expect(receiver.requests(to: "/v1").map { $0.headers["idempotency-key"] } == ["\(early)-send"])
                #expect(receiver.requests(to: "/v2").map { $0.headers["idempotency-key"] } == ["\(late)-send"])
            }
        }
    }

    @Test func aDelayPostponesWithoutSpendingAnAttempt() async throws {
        try await CycleFixture.with { fixture in
            let cycle = try await fixture.cycle(
                """
                {"name": "later", "steps": [
                  {"id": "wait", "type": "delay", "seconds": 1},
                  {"id": "after", "type": "map", "fields": {"done": {"value": true}}}
                ]}
                """)
            let id = try await fixture.enqueue(cycle, "{}")
            let clock = ContinuousClock()
            let start = clock.now
            try await fixture.work { try await fixture.finished([id]).count == 1 }
            #expect(start.duration(to: clock.now) >= .seconds(1))
            let job = try #require(try await fixture.finished([id])[id])
            #expect(job.state == "completed")
            #expect(job.attempt == 1, "waiting is not an attempt")
            #expect(job.outputs["after"] == .object(["done": .bool(true)]))
            #expect(try await fixture.stepRuns(id).map(\.step) == ["wait", "after"])
        }
    }

    @Test func httpStepsNeverCallMetadataAddressesAndPrivateOnesOnlyWhenAllowed() async throws {
        try await CycleFixture.with(allowPrivate: false) { fixture in
            let metadata = try await fixture.cycle(
                #"{"name": "m", "steps": [{"id": "s", "type": "http", "url": "http://169.254.169.254/latest/meta-data"}]}"#
            )
            let loopback = try await fixture.cycle(
                #"{"name": "l", "steps": [{"id": "s", "type": "http", "url": "http://127.0.0.1:9/x"}]}"#)
            let a = try await fixture.enqueue(metadata, "{}")
            let b = try await fixture.enqueue(loopback, "{}")
            try await fixture.work { try await fixture.finished([a, b]).count == 2 }
            let finished = try await fixture.finished([a, b])
            #expect(finished[a]?.state == "dead")
            #expect(finished[a]?.lastError?.contains("destination refused") == true)
            #expect(finished[b]?.state == "dead")
            #expect(finished[b]?.lastError?.contains("allow-private-destinations") == true)
        }
        let allowing = DestinationGuard(allowPrivate: true)
        #expect(allowing.refusal(for: "169.254.169.254") != nil)
        #expect(allowing.refusal(for: "fd00:ec2::254") != nil)
        #expect(allowing.refusal(for: "::ffff:169.254.169.254") != nil)
        #expect(allowing.refusal(for: "10.1.2.3") == nil)
        let strict = DestinationGuard(allowPrivate: false)
        for address in ["127.0.0.1", "::1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "fd12::1", "100.64.0.1"] {
            #expect(strict.refusal(for: address) != nil, "\(address)")
        }
        #expect(strict.refusal(for: "93.184.215.14") == nil)
    }
}
