import Foundation
import Hookline
import HooklineServer
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite("Deliveries racing a cycle's activation")
struct CycleActivationRaceTests {
    /// A stopped cycle takes 300 concurrent deliveries and is activated 20–60 ms into them, five times over:
    /// no job may stay `held` on the active cycle.
    @Test func deliveriesCommittingWhileTheirCycleIsActivatedAreNeverStrandedHeld() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, cycle) = try await fixture.webhook(.none)
            let cycles = CycleStore(database: fixture.database.client)
            try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                try await LoopbackHTTP.with(port: port) { http in
                    for _ in 0..<5 {
                        _ = try await cycles.setActive(cycle.id, false)
                        let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                            for index in 0..<300 {
                                group.addTask {
                                    try await http.post(created.webhook.urlPath, #"{"n":\#(index)}"#).status
                                }
                            }
                            try await Task.sleep(for: .milliseconds(Int.random(in: 20...60)))
                            _ = try await cycles.setActive(cycle.id, true)
                            return try await group.reduce(into: []) { $0.append($1) }
                        }
                        #expect(statuses.allSatisfy { $0 == 202 })
                    }
                }
            }
            let held = try await fixture.database.client.query(
                "SELECT count(*) FROM hookline.jobs WHERE cycle_id = \(cycle.id) AND state = 'held'")
            #expect(try held[0].decode(Int.self, at: 0) == 0, "jobs held on an active cycle")
            #expect(try await fixture.jobCount(created.webhook.id) == 1500)
        }
    }
}
