import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// `hookline jobs retry` on jobs that died in the middle of their cycle.
@Suite("Manual retries: resume at the failed step, or start over")
struct ManualRetryTests {
    @Test func aRetriedDeadJobResumesAtItsFailedStepWithTheOutputsBeforeIt() async throws {
        // /two refuses the first time (422: permanent, so the job is dead at once), then accepts.
        let receiver = Receiver { path, count in
            switch path {
            case "/one": (200, ["Content-Type": "application/json"], #"{"n": 41}"#)
            case "/two" where count == 1: (422, [:], "not yet")
            default: (200, [:], "ok")
            }
        }
        try await receiver.serving { base in
            try await CycleFixture.with { fixture in
                let cycle = try await fixture.cycle(
                    """
                    {"name": "two-calls", "steps": [
                      {"id": "one", "type": "http", "url": "\(base)/one"},
                      {"id": "two", "type": "http", "url": "\(base)/two", "body": {"n": "{{steps.one.body.n}}"}}
                    ]}
                    """)
                let id = try await fixture.enqueue(cycle, "{}")
                try await fixture.work { try await fixture.finished([id]).count == 1 }
                #expect(try await fixture.finished([id])[id]?.state == "dead")

                #expect(try await JobStore(database: fixture.database.client).retry(id: id) == [id])
                try await fixture.work { try await fixture.finished([id])[id]?.state == "completed" }
                #expect(receiver.requests(to: "/one").count == 1, "the call that had succeeded is not made again")
                #expect(receiver.requests(to: "/two").map(\.body) == [#"{"n":"41"}"#, #"{"n":"41"}"#])
                let job = try #require(try await fixture.finished([id])[id])
                #expect(job.outputs["one"]?["body"] == .object(["n": .int(41)]))
                #expect(job.outputs["two"]?["status"] == .int(200))
                #expect(
                    try await fixture.stepRuns(id).map { "\($0.step) \($0.attempt) \($0.outcome)" }
                        == ["one 1 succeeded", "two 1 failed", "two 1 succeeded"])
            }
        }
    }
}
