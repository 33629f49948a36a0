import ArgumentParser
import Foundation
import Hookline

extension HooklineCLI {
    /// `hookline jobs list|retry|cancel|stats`.
    struct Jobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect and steer jobs.", subcommands: [List.self, Retry.self, Cancel.self, Stats.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only jobs in this state.") var state: String?
            @Option(help: "Only this account's jobs.") var account: String?
            @Option(help: "At most this many.") var limit: Int = 100

            func run() async throws {
                try await reportingFailures {
                    let client = try database.client()
                    defer { client.close() }
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
                abstract: "Requeue dead or cancelled jobs: one by id, or in bulk by --account, --cycle, --state.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The job id (leave out for a bulk retry).") var id: Int64?
            @Option(help: "Only this account's jobs.") var account: String?
            @Option(help: "Only this cycle's jobs.") var cycle: String?
            @Option(help: "dead (default for bulk) or cancelled.") var state: String?

            func run() async throws {
                try await reportingFailures {
                    let client = try database.client()
                    defer { client.close() }
                    let ids = try await JobStore(database: client).retry(
                        id: id, account: account.flatMap(UUID.init(uuidString:)),
                        cycle: cycle.flatMap(UUID.init(uuidString:)), state: state)
                    if output.json { return try output.printJSON(["retried": ids]) }
                    print("requeued \(ids.count) job(s)")
                }
            }
        }

        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Cancel a waiting (available or held) job.")
            @OptionGroup var database: DatabaseOptions
            @Argument(help: "The job id.") var id: Int64

            func run() async throws {
                try await reportingFailures {
                    let client = try database.client()
                    defer { client.close() }
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

            func run() async throws {
                try await reportingFailures {
                    let client = try database.client()
                    defer { client.close() }
                    let counts = try await JobStore(database: client).stats(
                        account: account.flatMap(UUID.init(uuidString:)))
                    if output.json { return try output.printJSON(counts) }
                    for state in ["available", "running", "held", "completed", "dead", "cancelled"] {
                        print("\(state.padding(toLength: 10, withPad: " ", startingAt: 0)) \(counts[state] ?? 0)")
                    }
                }
            }
        }
    }
}
