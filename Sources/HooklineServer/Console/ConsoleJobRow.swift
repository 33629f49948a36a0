import Foundation
import Hookline

/// One job in a console table (the overview's dead jobs, the jobs page, a webhook's recent deliveries).
struct ConsoleJobRow {
    var id: Int64
    var state: String
    var account: String
    var attempts: String
    var at: String
    var lastError: String?

    init(_ job: JobSummary, accountNames: [UUID: String]) {
        id = job.id
        state = job.state.rawValue
        account = accountNames[job.accountID] ?? job.accountID.lowercased
        attempts = "\(job.attempt)/\(job.maxAttempts)"
        at = ConsoleFormat.time(job.at)
        lastError = job.lastError.map { $0.count > 160 ? String($0.prefix(160)) + "…" : $0 }
    }
}

/// How the console writes times and durations.
enum ConsoleFormat {
    static func time(_ date: Date?) -> String {
        guard let date else { return "" }
        // "2026-11-30 06:27:14Z" reads better as "2026-11-30 06:27:14 UTC".
        return String(
            date.formatted(Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: .gmt))
                .dropLast()) + " UTC"
    }

    static func seconds(_ seconds: Double) -> String {
        switch seconds {
        case ..<1: String(format: "%.0f ms", seconds * 1000)
        case ..<120: String(format: "%.1f s", seconds)
        case ..<7200: String(format: "%.0f min", seconds / 60)
        default: String(format: "%.1f h", seconds / 3600)
        }
    }
}
