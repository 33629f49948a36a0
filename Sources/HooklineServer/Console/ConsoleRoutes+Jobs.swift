import Foundation
import Hookline
import Hummingbird

/// `/console/jobs…`: jobs by account, cycle and state; one job in full; retry, cancel, bulk retry.
extension ConsoleRoutes {
    struct JobsView {
        struct Option {
            var value: String
            var label: String
            var selected: Bool
        }
        var csrf: String
        var notice: String?
        var accounts: [Option]
        var cycles: [Option]
        var states: [Option]
        var jobs: [ConsoleJobRow]
        var account: String
        var cycle: String
        var showBulkRetry: Bool
        /// No account or cycle filter: the bulk retry says, and asks for, every account's dead jobs.
        var everyAccount: Bool
        var older: String?
        var navJobs = true
    }

    static let pageSize = 50

    func registerJobs(on pages: RouterGroup<HooklineRequestContext>) {
        pages.get("jobs") { request, context in try await jobs(request, context) }
        pages.get("jobs/:id") { request, context in try await job(request, context) }
        pages.post("jobs/retry") { request, _ in try await bulkRetry(request) }
        pages.post("jobs/:id/retry") { _, context in
            let id = try Self.jobID(context)
            _ = try await JobStore(database: database).retry(id: id)
            return Self.seeOther(ConsoleNotice.retried.redirect(to: "/console/jobs/\(id)"))
        }
        pages.post("jobs/:id/cancel") { _, context in
            let id = try Self.jobID(context)
            try await JobStore(database: database).cancel(id)
            return Self.seeOther(ConsoleNotice.cancelled.redirect(to: "/console/jobs/\(id)"))
        }
    }

    static func jobID(_ context: HooklineRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw ConsolePageError.notFound("No such job.")
        }
        return id
    }

    /// The filter of the jobs page (and of its bulk retry): empty values filter nothing, and malformed ones are
    /// refused rather than dropped (dropped, they would widen the page, and its bulk retry, to every account).
    struct JobFilter {
        var account: UUID?
        var cycle: UUID?
        var state: JobState?
        var before: Int64?

        init(_ value: (String) -> String?) throws {
            func read<T>(_ name: String, _ parse: (String) -> T?) throws -> T? {
                guard let text = value(name), !text.isEmpty else { return nil }
                guard let parsed = parse(text) else { throw HooklineError.invalidField(name, "not one of ours") }
                return parsed
            }
            account = try read("account") { UUID(uuidString: $0) }
            cycle = try read("cycle") { UUID(uuidString: $0) }
            state = try read("state") { JobState(rawValue: $0) }
            before = try read("before") { Int64($0) }
        }

        /// The filter as a query string (`?account=…&cycle=…`), empty when it filters nothing.
        var query: String {
            var items = URLComponents()
            items.queryItems = [
                account.map { URLQueryItem(name: "account", value: $0.lowercased) },
                cycle.map { URLQueryItem(name: "cycle", value: $0.lowercased) },
                state.map { URLQueryItem(name: "state", value: $0.rawValue) },
                before.map { URLQueryItem(name: "before", value: String($0)) },
            ].compactMap { $0 }
            return items.queryItems?.isEmpty == false ? items.string ?? "" : ""
        }
    }

    func jobs(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let filter = try JobFilter { query.get($0) }
        let accounts = try await AccountStore(database: database).list()
        let names = Dictionary(accounts.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let cycles = try await CycleStore(database: database).list(account: filter.account)
        let page = try await JobStore(database: database).list(
            state: filter.state, account: filter.account, cycle: filter.cycle, before: filter.before,
            limit: Self.pageSize)
        let accountOptions = accounts.map {
            JobsView.Option(value: $0.id.lowercased, label: $0.name, selected: $0.id == filter.account)
        }
        let cycleOptions = cycles.map { cycle -> JobsView.Option in
            let owner = names[cycle.accountID] ?? "?"
            return JobsView.Option(
                value: cycle.id.lowercased, label: "\(cycle.name) (\(owner))", selected: cycle.id == filter.cycle)
        }
        let stateOptions = JobState.allCases.map {
            JobsView.Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == filter.state)
        }
        var older: String?
        if page.count == Self.pageSize, let last = page.last {
            var next = filter
            next.before = last.id
            older = "/console/jobs" + next.query
        }
        let view = JobsView(
            csrf: context.consoleSession?.csrf ?? "",
            notice: ConsoleNotice.text(done: query.get("done"), count: query.get("n")),
            accounts: accountOptions, cycles: cycleOptions, states: stateOptions,
            jobs: page.map { ConsoleJobRow($0, accountNames: names) },
            account: filter.account?.lowercased ?? "", cycle: filter.cycle?.lowercased ?? "",
            showBulkRetry: filter.state == .dead || page.contains { $0.state == .dead },
            everyAccount: filter.account == nil && filter.cycle == nil, older: older)
        return renderer.page("jobs", view)
    }

    func bulkRetry(_ request: Request) async throws -> Response {
        var request = request
        let form = try await ConsoleForm.read(&request, maxBytes: maxFormBytes)
        let filter = try JobFilter { form[$0] }
        // Every account's dead jobs only when the form says so (the page's form does when it has no filter).
        guard filter.account != nil || filter.cycle != nil || form["all"] == "yes" else {
            throw HooklineError.invalidField("account", "choose an account or a cycle, or all accounts")
        }
        let ids = try await JobStore(database: database).retry(
            account: filter.account, cycle: filter.cycle, state: .dead)
        var back = filter
        back.state = nil
        return Self.seeOther(
            ConsoleNotice.bulkRetried.redirect(to: "/console/jobs" + back.query, count: ids.count))
    }

    func job(_ request: Request, _ context: HooklineRequestContext) async throws -> Response {
        let detail = try await JobStore(database: database).show(try Self.jobID(context))
        let account = try await AccountStore(database: database).find(detail.accountID)
        var cycleName: String?
        if let cycle = detail.cycleID { cycleName = try? await CycleStore(database: database).show(cycle).cycle.name }
        let query = request.uri.queryParameters
        let view = ConsoleJobView(
            detail, accountName: account?.name, cycleName: cycleName, csrf: context.consoleSession?.csrf ?? "",
            notice: ConsoleNotice.text(done: query.get("done"), count: query.get("n")))
        return renderer.page("job", view)
    }
}
