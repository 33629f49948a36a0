import ArgumentParser
import Foundation
import Hookline

extension HooklineCLI {
    /// `hookline jobs list|show|retry|cancel|stats`.
    struct Jobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect and steer jobs.",
            subcommands: [List.self, Show.self, Retry.self, Cancel.self, Stats.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")
            @OptionGroup var options: ResourceOptions
            @Option(help: "Only jobs in this state.") var state: JobState?
            @Option(help: "Only this account's jobs.") var account: UUID?
            @Option(help: "At most this many.") var limit: Int = 100

            func validate() throws {
                guard limit > 0 else { throw ValidationError("--limit must be positive") }
            }

            func run() async throws {
                try await options.run {
                    try await JobStore(database: $0).list(state: state, account: account, limit: limit)
                } text: {
                    $0.map {
                        "\($0.id)  \($0.state)  attempt \($0.attempt)/\($0.maxAttempts)  "
                            + "account \($0.accountID.lowercased)  \(($0.lastError ?? "").shownOnTerminal)"
                    }
                }
            }
        }

        struct Retry: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Requeue dead or cancelled jobs: one by id, or in bulk by --account, --cycle (or --all), --state.",
                discussion: """
                    A job resumes at the step it stopped at (the one that failed), with the outputs of the steps \
                    before it, so that calls that had succeeded are not made again. --from-start runs it from \
                    its first step instead. A bulk retry needs --account, --cycle or --all: an empty job id or a \
                    mistyped flag must not replay every account's calls.
                    """)
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The job id (leave out for a bulk retry).") var id: Int64?
            @Option(help: "Only this account's jobs.") var account: UUID?
            @Option(help: "Only this cycle's jobs.") var cycle: UUID?
            @Option(help: "dead (default for bulk) or cancelled.") var state: JobState?
            @Flag(help: "A bulk retry of every account's jobs (of --state), with no --account or --cycle.")
            var all = false
            @Flag(help: "Start over from the first step, instead of resuming at the step that failed.")
            var fromStart = false

            func validate() throws {
                if id == nil, account == nil, cycle == nil, !all {
                    throw ValidationError("give a job id, or --account or --cycle, or --all for every account's jobs")
                }
                if all, id != nil || account != nil || cycle != nil {
                    throw ValidationError("--all retries every account's jobs: give no job id, --account or --cycle")
                }
            }

            func run() async throws {
                try await options.run {
                    let ids = try await JobStore(database: $0).retry(
                        id: id, account: account, cycle: cycle, state: state, fromStart: fromStart)
                    return ["retried": ids]
                } text: {
                    ["requeued \($0["retried"]?.count ?? 0) job(s)"]
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show one job: its state, attempts, errors, payload and step runs.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The job id.") var id: Int64

            func run() async throws {
                try await database.withClient { client in
                    let job = try await JobStore(database: client).show(id).jsonObject()
                    if output.json { return try output.printJSONObject(job) }
                    for key in Self.order where job[key] != nil {
                        let value = job[key]!
                        guard !(value is NSNull) else { continue }
                        let text: String
                        if value is String || value is NSNumber {
                            text = "\(value)"
                        } else {
                            let data = try JSONSerialization.data(
                                withJSONObject: value,
                                options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
                            text = String(decoding: data, as: UTF8.self)
                        }
                        // The body and headers are a sender's: control characters (a terminal's escape
                        // sequences among them) are shown as \u escapes, not sent to the terminal.
                        print("\(key.padding(toLength: 16, withPad: " ", startingAt: 0)) \(text.shownOnTerminal)")
                    }
                }
            }

            static let order = [
                "id", "state", "outcome", "account_id", "webhook_id", "cycle_id", "cycle_version", "parent_id",
                "priority", "attempt", "max_attempts", "run_at", "locked_by", "locked_until", "received_at",
                "finished_at", "next_step", "last_error", "errors", "idempotency_key", "content_type", "headers",
                "body", "body_encoding", "step_outputs", "step_runs",
            ]
        }

        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Cancel a waiting (available or held) job.")
            @OptionGroup var options: ResourceOptions
            @Argument(help: "The job id.") var id: Int64

            func run() async throws {
                try await options.run {
                    try await JobStore(database: $0).cancel(id)
                    return ["cancelled": id]
                } text: { _ in
                    ["cancelled job \(id)"]
                }
            }
        }

        struct Stats: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Count jobs by state.")
            @OptionGroup var options: ResourceOptions
            @Option(help: "Only this account's jobs.") var account: UUID?

            func run() async throws {
                try await options.run {
                    let counts = try await JobStore(database: $0).stats(account: account)
                    return Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
                } text: { counts in
                    JobState.allCases.map {
                        "\($0.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(counts[$0.rawValue] ?? 0)"
                    }
                }
            }
        }
    }
}
