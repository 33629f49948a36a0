import Foundation
import Hookline
import HooklineWorker
import Postgres
import TestSupport
import Testing

/// `split`: its limit, and what each child row holds.
@Suite("split: max_items, and children that hold only what their steps read")
struct SplitTests {
    @Test func anArrayOverMaxItemsEndsTheJobDeadNamingTheLimitAndMakesNoChild() async throws {
        try await CycleFixture.with { fixture in
            // Even under on_error "ignore": a split over its limit is not a step to step over.
            let three = try await fixture.cycle(
                """
                {"name": "three", "on_error": "ignore", "steps": [
                  {"id": "each", "type": "split", "path": "/items", "max_items": 3},
                  {"id": "shape", "type": "map", "fields": {"n": "/n"}}
                ]}
                """)
            let plain = try await fixture.cycle(
                """
                {"name": "plain", "steps": [
                  {"id": "each", "type": "split", "path": "/items"},
                  {"id": "shape", "type": "map", "fields": {"n": "/n"}}
                ]}
                """)
            let over = try await fixture.enqueue(three, #"{"items": [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]}"#)
            let at = try await fixture.enqueue(three, #"{"items": [{"n": 1}, {"n": 2}, {"n": 3}]}"#)
            let items = (0...10_000).map { #"{"n": \#($0)}"# }.joined(separator: ",")
            let overDefault = try await fixture.enqueue(plain, #"{"items": [\#(items)]}"#)
            try await fixture.work(within: .seconds(60)) {
                guard try await fixture.finished([over, at, overDefault]).count == 3 else { return false }
                return try await children(of: at, in: fixture) == 3
            }
            let finished = try await fixture.finished([over, at, overDefault])
            #expect(finished[over]?.state == "dead")
            #expect(finished[over]?.attempt == 1, "dead at once, not retried")
            #expect(finished[over]?.lastError?.contains("4 elements") == true, "\(finished[over]?.lastError ?? "")")
            #expect(finished[over]?.lastError?.contains("max_items (3)") == true)
            #expect(try await children(of: over, in: fixture) == 0)
            #expect(finished[at]?.outcome == "split")
            #expect(finished[overDefault]?.state == "dead")
            #expect(finished[overDefault]?.lastError?.contains("max_items (10000)") == true)
            #expect(try await children(of: overDefault, in: fixture) == 0)
            #expect(try await fixture.stepRuns(over).map(\.outcome) == ["failed"])
        }
    }

    /// A split whose children would copy more than 256 MiB of earlier outputs between them makes none: one
    /// job cannot write gigabytes into the shared database in one transaction.
    @Test func aSplitThatWouldCopyTooMuchOfEarlierOutputsMakesNoChild() async throws {
        try await CycleFixture.with { fixture in
            let copying = try await fixture.cycle(
                """
                {"name": "copying", "steps": [
                  {"id": "bulky", "type": "map", "fields": {"blob": "/blob"}},
                  {"id": "each", "type": "split", "path": "/items", "max_items": 100000},
                  {"id": "shape", "type": "map", "fields": {"blob": {"pointer": "/blob", "from": "bulky"}}}
                ]}
                """)
            // 1 MB of output read by the children, times 300 children: 300 MB.
            let blob = String(repeating: "b", count: 1_000_000)
            let items = (0..<300).map { "\($0)" }.joined(separator: ",")
            let job = try await fixture.enqueue(copying, #"{"blob": "\#(blob)", "items": [\#(items)]}"#)
            try await fixture.work(within: .seconds(60)) { try await fixture.finished([job]).count == 1 }
            let finished = try await fixture.finished([job])
            #expect(finished[job]?.state == "dead")
            #expect(finished[job]?.lastError?.contains("would copy") == true, "\(finished[job]?.lastError ?? "")")
            #expect(try await children(of: job, in: fixture) == 0)
        }
    }

    @Test func childrenHoldOnlyTheOutputsAndHeadersTheirRemainingStepsRead() async throws {
        try await CycleFixture.with { fixture in
            let lean = try await fixture.cycle(
                """
                {"name": "lean", "steps": [
                  {"id": "bulky", "type": "map", "fields": {"blob": "/blob"}},
                  {"id": "named", "type": "map", "fields": {"order": "/order"}},
                  {"id": "each", "type": "split", "path": "/items"},
                  {"id": "send", "type": "http", "url": "http://127.0.0.1:9/items",
                   "body": {"sku": "{{payload.sku}}", "order": "{{steps.named.order}}"}}
                ]}
                """)
            let headed = try await fixture.cycle(
                """
                {"name": "headed", "steps": [
                  {"id": "bulky", "type": "map", "fields": {"blob": "/blob"}},
                  {"id": "each", "type": "split", "path": "/items"},
                  {"id": "send", "type": "http", "url": "http://127.0.0.1:9/items",
                   "headers": {"X-Source": "{{headers.x-source}}"}, "body_from": "bulky"}
                ]}
                """)
            let payload =
                #"{"order": "o-1", "blob": "\#(String(repeating: "z", count: 2000))", "items": [{"sku": "a"}, {"sku": "b"}]}"#
            let headers = #"{"x-source": "shop", "user-agent": "\#(String(repeating: "u", count: 500))"}"#
            let leanParent = try await fixture.enqueue(lean, payload, headers: headers)
            let headedParent = try await fixture.enqueue(headed, payload, headers: headers)
            try await SplitRun.runClaimed(2, in: fixture)

            let leanChildren = try await SplitRun.childRows(of: leanParent, in: fixture)
            #expect(leanChildren.count == 2)
            for child in leanChildren {
                #expect(child.outputs == .object(["named": .object(["order": .string("o-1")])]))
                #expect(child.headers == .object([:]), "no remaining step reads the headers")
                #expect(child.nextStep == 3)
            }
            #expect(Set(leanChildren.map(\.body)) == [#"{"sku":"a"}"#, #"{"sku":"b"}"#])
            let headedChildren = try await SplitRun.childRows(of: headedParent, in: fixture)
            #expect(headedChildren.count == 2)
            for child in headedChildren {
                #expect(child.outputs.object?.keys.sorted() == ["bulky"])
                #expect(child.headers["x-source"] == .string("shop"), "a remaining step reads the headers")
            }
        }
    }

    @Test func aSplitOfAThousandSmallElementsAndTheWALItWrites() async throws {
        try await CycleFixture.with { fixture in
            let cycle = try await fixture.cycle(
                """
                {"name": "thousand", "steps": [
                  {"id": "named", "type": "map", "fields": {"order": "/order"}},
                  {"id": "each", "type": "split", "path": "/items"},
                  {"id": "send", "type": "http", "url": "http://127.0.0.1:9/items",
                   "body": {"sku": "{{payload.sku}}", "order": "{{steps.named.order}}"}}
                ]}
                """)
            // A delivery's headers as the ingress keeps them (about 450 bytes).
            let headers = """
                {"content-type": "application/json", "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                 "accept": "*/*; q=0.5, application/xml", "cache-control": "no-cache", "host": "hooks.example.com",
                 "content-length": "31000", "x-request-id": "req_8f3b2c1d9e7a6b5c4d3e2f1a",
                 "x-forwarded-for": "54.187.174.169", "x-forwarded-proto": "https",
                 "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
                """
            let items = (1...1000).map { #"{"sku": "sku-\#($0)", "qty": 1}"# }.joined(separator: ",")
            let walInspect =
                (try? await fixture.database.client.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect")) != nil
            for round in ["first", "second"] {
                let parent = try await fixture.enqueue(
                    cycle, #"{"order": "o-\#(round)", "items": [\#(items)]}"#, headers: headers)
                let before = try await SplitRun.walPosition(fixture)
                try await SplitRun.runClaimed(1, in: fixture)
                let after = try await SplitRun.walPosition(fixture)
                let children = try await SplitRun.childRows(of: parent, in: fixture)
                #expect(children.count == 1000)
                #expect(
                    children.allSatisfy { $0.headers == .object([:]) && $0.outputs.object?.keys.sorted() == ["named"] })
                let size = try await fixture.database.client.query(
                    "SELECT avg(pg_column_size(j.*))::float8, min(xmin::text) FROM hookline.jobs j WHERE parent_id = \(parent)"
                )
                let (rowBytes, xid) = try size[0].decode((Double, String).self)
                var figures =
                    "split of 1,000 small elements (\(round)): a child row is \(Int(rowBytes)) bytes on average"
                figures +=
                    "; the cluster's WAL grew \(try await SplitRun.walBytes(from: before, to: after, fixture)) bytes"
                if walInspect {
                    let row = try await fixture.database.client.query(
                        """
                        SELECT count(*)::int8, coalesce(sum(record_length), 0)::int8, coalesce(sum(fpi_length), 0)::int8
                        FROM pg_get_wal_records_info(\(before)::text::pg_lsn, \(after)::text::pg_lsn)
                        WHERE xid = \(xid)::text::xid
                        """)[0]
                    let (records, bytes, images) = try row.decode((Int64, Int64, Int64).self)
                    figures += "; the split's transaction wrote \(bytes) bytes in \(records) records"
                    figures += " (\(images) bytes of them full-page images)"
                }
                print(figures)
                // Out of the way of the next round's claim.
                try await fixture.database.client.query("DELETE FROM hookline.jobs WHERE parent_id = \(parent)")
            }
        }
    }

    func children(of parent: Int64, in fixture: CycleFixture) async throws -> Int {
        try await fixture.database.client.query(
            """
            SELECT (SELECT count(*) FROM hookline.jobs WHERE parent_id = \(parent))
                 + (SELECT count(*) FROM hookline.job_history WHERE parent_id = \(parent))
            """
        )[0].decode(Int.self, at: 0)
    }
}
