import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// What an MCP tool call waits with: one poll for every waiter, each resumed once, with its job or at its
/// deadline, and never more waiters than the bound.
@Suite("Waiting for jobs to finish")
struct JobWaiterTests {
    @Test func waitersGetTheirFinishedJobsAndTheOthersTimeOut() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let queue = JobQueue(database: database.client)
            let ids = try await queue.insert(
                (1...3).map { NewJob(accountID: account.id, maxAttempts: 1, body: Data("\($0)".utf8)) })
            let store = JobStore(database: database.client)
            let waiter = JobWaiter(database: database.client)
            let since = Date()
            async let first = waiter.wait(for: ids[0], since: since, timeout: .seconds(10))
            async let second = waiter.wait(for: ids[1], since: since, timeout: .seconds(10))
            async let unfinished = waiter.wait(for: ids[2], since: since, timeout: .milliseconds(300))
            try await eventually(within: .seconds(5)) { waiter.waiting == 3 }
            try await store.cancel(ids[0])
            try await store.cancel(ids[1])
            let (a, b, c) = await (first, second, unfinished)
            #expect(a?.id == ids[0] && a?.state == .cancelled)
            #expect(b?.id == ids[1] && b?.state == .cancelled)
            #expect(c == nil, "a job that does not finish in time answers nil")
            #expect(waiter.waiting == 0)
        }
    }

    @Test func pastTheBoundACallIsAnsweredAtOnceAndCancellationEndsAWait() async throws {
        try await MigratedDatabase.with { database in
            let waiter = JobWaiter(database: database.client, maxWaiters: 1)
            let held = Task { await waiter.wait(for: 1, since: Date(), timeout: .seconds(30)) }
            try await eventually(within: .seconds(5)) { waiter.waiting == 1 }
            let start = ContinuousClock.now
            #expect(await waiter.wait(for: 2, since: Date(), timeout: .seconds(30)) == nil)
            #expect(start.duration(to: .now) < .seconds(5), "the second waiter was turned away, not kept")
            held.cancel()
            #expect(await held.value == nil)
            #expect(waiter.waiting == 0)
        }
    }
}
