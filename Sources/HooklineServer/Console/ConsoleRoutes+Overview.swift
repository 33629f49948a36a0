import Foundation
import Hookline
import Hummingbird

/// `GET /console`: the queue at a glance.
extension ConsoleRoutes {
    struct OverviewView {
        struct StateCount {
            var state: String
            var count: Int
        }
        struct AccountRow {
            var id: String
            var name: String
            var counts: [StateCount]
        }

        var csrf: String
        var notice: String?
        var states: [String]
        var totals: [StateCount]
        var accounts: [AccountRow]
        var oldestWait: String
        var chart: String
        var deadJobs: [ConsoleJobRow]
        var at: String
        var hasAccounts: Bool
        var hasDeadJobs: Bool
        var navOverview = true
    }

    func registerOverview(on pages: RouterGroup<HooklineRequestContext>) {
        pages.get("") { request, context in try await overview(request, context) }
    }

    func overview(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let jobs = JobStore(database: database)
        let activity = try await jobs.activity()
        let accounts = try await AccountStore(database: database).list()
        let names = Dictionary(accounts.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let dead = activity.recentDead

        var byAccount: [UUID: [JobState: Int]] = [:]
        var totals: [JobState: Int] = [:]
        for count in activity.counts {
            byAccount[count.accountID, default: [:]][count.state, default: 0] += count.count
            totals[count.state, default: 0] += count.count
        }
        let states = JobState.allCases
        let rows = accounts.filter { byAccount[$0.id] != nil }.map { account in
            OverviewView.AccountRow(
                id: account.id.lowercased, name: account.name,
                counts: states.map { .init(state: $0.rawValue, count: byAccount[account.id]?[$0] ?? 0) })
        }
        let minuteEnd = Date(timeIntervalSince1970: (activity.at.timeIntervalSince1970 / 60).rounded(.down) * 60)
        let view = OverviewView(
            csrf: context.consoleSession?.csrf ?? "",
            notice: ConsoleNotice.text(
                done: request.uri.queryParameters.get("done"),
                count: request.uri.queryParameters.get("n")),
            states: states.map(\.rawValue),
            totals: states.map { .init(state: $0.rawValue, count: totals[$0] ?? 0) },
            accounts: rows,
            oldestWait: activity.oldestWaitSeconds.map(ConsoleFormat.seconds) ?? "none waiting",
            chart: ThroughputChart(minutes: activity.minutes, end: minuteEnd).svg,
            deadJobs: dead.map { ConsoleJobRow($0, accountNames: names) },
            at: ConsoleFormat.time(activity.at), hasAccounts: !rows.isEmpty, hasDeadJobs: !dead.isEmpty)
        return renderer.page("overview", view)
    }
}
