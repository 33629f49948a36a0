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
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only jobs in this state.") var state: JobState?
            @Option(help: "Only this account's jobs.") var account: String?
            @Option(help: "At most this many.") var limit: Int = 100

            func validate() throws {
                try requireUUID(account, "--account")
                guard limit > 0 else { throw ValidationError("--limit must be positive") }
            }

            func run() async throws {
                try await database.withClient { client in
                    let jobs = try await JobStore(database: client).list(
                        state: state, account: account.flatMap(UUID.init(uuidString:)), limit: limit)
                    if output.json { return try output.printJSON(jobs) }
                    for job in jobs {
                        print(
                            "\(job.id)  \(job.state)  attempt \(job.attempt)/\(job.maxAttempts)  "
                                + "account \(job.accountID.lowercased)  \(job.lastError ?? "")")
                    }
                }
            }
        }

        struct Retry: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Requeue dead or cancelled jobs: one by id, or in bulk by --account, --cycle, --state.",
                discussion: """
                    A job resumes at the step it stopped at (the one that failed), with the outputs of the steps \
                    before it, so that calls that had succeeded are not made again. --from-start runs it from \
                    its first step instead.
                    """)
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The job id (leave out for a bulk retry).") var id: Int64?
            @Option(help: "Only this account's jobs.") var account: String?
            @Option(help: "Only this cycle's jobs.") var cycle: String?
            @Option(help: "dead (default for bulk) or cancelled.") var state: JobState?
            @Flag(help: "Start over from the first step, instead of resuming at the step that failed.")
            var fromStart = false

            func validate() throws {
                try requireUUID(account, "--account")
                try requireUUID(cycle, "--cycle")
            }

            func run() async throws {
                try await database.withClient { client in
                    let ids = try await JobStore(database: client).retry(
                        id: id, account: account.flatMap(UUID.init(uuidString:)),
                        cycle: cycle.flatMap(UUID.init(uuidString:)), state: state, fromStart: fromStart)
                    if output.json { return try output.printJSON(["retried": ids]) }
                    print("requeued \(ids.count) job(s)")
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
                        print("\(key.padding(toLength: 16, withPad: " ", startingAt: 0)) \(text)")
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
            @OptionGroup var database: DatabaseOptions
            @Argument(help: "The job id.") var id: Int64

            func run() async throws {
                try await database.withClient { client in
                    try await JobStore(database: client).cancel(id)
                    print("cancelled job \(id)")
                }
            }
        }

        struct Stats: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Count jobs by state.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only this account's jobs.") var account: String?

            func validate() throws { try requireUUID(account, "--account") }

            func run() async throws {
                try await database.withClient { client in
                    let counts = try await JobStore(database: client).stats(
                        account: account.flatMap(UUID.init(uuidString:)))
                    if output.json {
                        return try output.printJSON(
                            Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }))
                    }
                    for state in JobState.allCases {
                        print(
                            "\(state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(counts[state] ?? 0)"
                        )
                    }
                }
            }
        }
    }
}

/// Refuses an option value that is not a UUID (rather than silently matching everything).
func requireUUID(_ value: String?, _ option: String) throws {
    if let value, UUID(uuidString: value) == nil { throw ValidationError("\(option) must be a UUID, not \(value)") }
}

/// `--state available`: ArgumentParser checks the value and lists the states in `--help` and in its error.
extension JobState: ExpressibleByArgument {}
