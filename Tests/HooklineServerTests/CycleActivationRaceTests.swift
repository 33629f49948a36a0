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

    /// A stop and an activation at once (two operators, or a retried request) leave the jobs as the cycle's
    /// final state says: waiting jobs of an active cycle `available`, of a stopped one `held`. Each moves the
    /// jobs in a second transaction after its row's update, so a stop's move could otherwise land after the
    /// activation's and strand the backlog held on an active cycle.
    @Test func aStopAndAnActivationAtOnceLeaveTheJobsAsTheCycleEndsUp() async throws {
        try await ServerFixture.run { fixture in
            let (account, cycle) = try await fixture.accountWithCycle()
            _ = try await JobQueue(database: fixture.database.client).insert(
                Array(repeating: NewJob(accountID: account.id, cycleID: cycle.id, cycleVersion: 1), count: 200))
            let cycles = CycleStore(database: fixture.database.client)
            for round in 0..<40 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { _ = try await cycles.setActive(cycle.id, false) }
                    group.addTask { _ = try await cycles.setActive(cycle.id, true) }
                    try await group.waitForAll()
                }
                let rows = try await fixture.database.client.query(
                    """
                    SELECT c.active, count(*) FILTER (WHERE j.state = 'held')::int,
                           count(*) FILTER (WHERE j.state = 'available')::int
                    FROM hookline.cycles c JOIN hookline.jobs j ON j.cycle_id = c.id WHERE c.id = \(cycle.id)
                    GROUP BY c.active
                    """)
                let (active, held, available) = try rows[0].decode((Bool, Int, Int).self)
                #expect(active ? held == 0 : available == 0, "round \(round): active \(active), \(held) held")
                if active ? held != 0 : available != 0 { break }
            }
        }
    }
}
