import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// `http` steps against destinations on loopback: the timeout over the whole call, and the default body.
@Suite("http steps: the whole-call timeout and the payload as the default body")
struct HTTPStepTests {
    @Test func aDestinationThatDripsItsBodyFailsTheAttemptAsRetryableAtTheTimeout() async throws {
        // The head comes at once, then a byte a second: without a bound on the body, the job would stay
        // `running` for a minute with its lease renewed all along.
        let slow = SlowDestination(bodyBytes: 60, interval: .seconds(1))
        try await slow.serving { base in
            try await CycleFixture.with { fixture in
                let cycle = try await fixture.cycle(
                    """
                    {"name": "drip", "retry": {"max_attempts": 3, "backoff_seconds": 600}, "steps": [
                      {"id": "fetch", "type": "http", "method": "GET", "url": "\(base)/drip", "timeout_seconds": 2}
                    ]}
                    """)
                let id = try await fixture.enqueue(cycle, "{}")
                try await fixture.work(within: .seconds(20)) {
                    try await fixture.database.client.query(
                        "SELECT 1 FROM hookline.jobs WHERE id = \(id) AND state = 'available' AND attempt = 1"
                    ).count == 1
                }
                let row = try #require(
                    try await fixture.database.client.query(
                        "SELECT state, attempt, last_error FROM hookline.jobs WHERE id = \(id)"
                    ).first)
                let (state, attempt, lastError) = try row.decode((String, Int, String?).self)
                #expect(state == "available", "a timeout is retryable")
                #expect(attempt == 1)
                #expect(lastError?.contains("timed out after 2 s") == true, "\(lastError ?? "")")
                #expect(try await fixture.stepRuns(id).map { "\($0.step) \($0.outcome)" } == ["fetch retry"])
                #expect(slow.requests == 1)
                #expect(slow.bytesSent >= 1, "the head and the first bytes came: the body was cut short")
                #expect(slow.bytesSent < 60)
            }
        }
    }

    @Test func aBodyMethodWithoutABodyForwardsThePayloadAsJSON() async throws {
        let receiver = Receiver()
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let forward = try await fixture.cycle(
                    """
                    {"name": "forward", "steps": [
                      {"id": "post", "type": "http", "url": "\(base)/post"},
                      {"id": "put", "type": "http", "method": "PUT", "url": "\(base)/put"},
                      {"id": "patch", "type": "http", "method": "PATCH", "url": "\(base)/patch"},
                      {"id": "get", "type": "http", "method": "GET", "url": "\(base)/get"},
                      {"id": "typed", "type": "http", "url": "\(base)/typed",
                       "headers": {"Content-Type": "application/vnd.orders+json"}}
                    ]}
                    """)
                let each = try await fixture.cycle(
                    """
                    {"name": "each", "steps": [
                      {"id": "each", "type": "split", "path": "/items"},
                      {"id": "send", "type": "http", "url": "\(base)/child"}
                    ]}
                    """)
                let payload = #"{"order": 7, "items": [{"sku": "a"}, {"sku": "b"}]}"#
                let one = try await fixture.enqueue(forward, payload)
                let parent = try await fixture.enqueue(each, payload)
                try await fixture.work {
                    try await fixture.finished([one]).count == 1 && receiver.requests(to: "/child").count == 2
                }
                #expect(try await fixture.finished([one])[one]?.state == "completed")
                let expected = try JSON(parsing: Array(payload.utf8))
                for path in ["/post", "/put", "/patch"] {
                    let request = try #require(receiver.requests(to: path).first, "\(path)")
                    #expect(try JSON(parsing: Array(request.body.utf8)) == expected, "\(path)")
                    #expect(request.headers["content-type"] == "application/json", "\(path)")
                }
                let get = try #require(receiver.requests(to: "/get").first)
                #expect(get.body.isEmpty, "GET carries no body")
                let typed = try #require(receiver.requests(to: "/typed").first)
                #expect(try JSON(parsing: Array(typed.body.utf8)) == expected)
                #expect(typed.headers["content-type"] == "application/vnd.orders+json", "the step's own type stays")
                let children = try receiver.requests(to: "/child").map { try JSON(parsing: Array($0.body.utf8)) }
                #expect(Set(children) == [.object(["sku": .string("a")]), .object(["sku": .string("b")])])
                #expect(receiver.requests(to: "/child").allSatisfy { $0.headers["content-type"] == "application/json" })
                _ = parent
            }
        }
    }

    /// A name that does not resolve may resolve on a later try (a resolver down, a record not there yet):
    /// the attempt is retried, as a connection error is. An address the guard refuses stays refused.
    @Test func aDestinationThatDoesNotResolveIsRetried() async throws {
        try await CycleFixture.with { fixture in
            let cycle = try await fixture.cycle(
                """
                {"name": "unresolved", "retry": {"max_attempts": 3, "backoff_seconds": 600}, "steps": [
                  {"id": "call", "type": "http", "url": "https://hookline-test.invalid/x"}
                ]}
                """)
            let id = try await fixture.enqueue(cycle, "{}")
            try await fixture.work {
                try await fixture.database.client.query(
                    "SELECT 1 FROM hookline.jobs WHERE id = \(id) AND attempt = 1 AND last_error IS NOT NULL"
                ).count == 1
            }
            let row = try #require(
                try await fixture.database.client.query("SELECT state, last_error FROM hookline.jobs WHERE id = \(id)")
                    .first)
            let (state, lastError) = try row.decode((String, String?).self)
            #expect(state == "available", "retried: \(lastError ?? "")")
            #expect(lastError?.contains("hookline-test.invalid does not resolve") == true, "\(lastError ?? "")")
        }
    }

    /// A header value the HTTP client refuses (a payload's line break in it) fails the step without the
    /// header's value in the job's error, its step run or the log: such headers carry secrets.
    @Test func aRefusedHeaderValueIsNotRecordedInTheError() async throws {
        let receiver = Receiver()
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let cycle = try await fixture.cycle(
                    """
                    {"name": "header", "retry": {"max_attempts": 1}, "steps": [
                      {"id": "call", "type": "http", "url": "\(base)/h",
                       "headers": {"Authorization": "Bearer sk_live_secret {{payload.ref}}"}}
                    ]}
                    """)
                let id = try await fixture.enqueue(cycle, #"{"ref": "a\nb"}"#)
                try await fixture.work { try await fixture.finished([id]).count == 1 }
                let finished = try #require(try await fixture.finished([id])[id])
                #expect(finished.state == "dead")
                let lastError = finished.lastError ?? ""
                #expect(!lastError.isEmpty)
                #expect(!lastError.contains("sk_live_secret"), "\(lastError)")
                let errors = try await fixture.database.client.query(
                    "SELECT coalesce(string_agg(error, ' | '), '') FROM hookline.step_runs WHERE job_id = \(id)")
                #expect(try !errors[0].decode(String.self, at: 0).contains("sk_live_secret"))
                #expect(receiver.requests(to: "/h").isEmpty)
            }
        }
    }
}
