import Foundation
import Hookline
import Postgres
import TestSupport
import Testing

/// Figures, not a pass/fail test: how long completions take while `hookline.maintain_history` prunes a
/// million step runs and swaps history partitions, with the maintenance of migrations 0001–0008 and with
/// the current one. Runs only when asked (it takes a few minutes):
///
///     HOOKLINE_FIGURES=1 swift test --skip-build --filter MaintenanceFigures
@Suite("Figures: completions' latency while history maintenance runs")
struct MaintenanceFigures {
    static let enabled = ProcessInfo.processInfo.environment["HOOKLINE_FIGURES"] != nil

    @Test(.enabled(if: enabled)) func completionsWhileMaintenancePrunesAMillionStepRuns() async throws {
        let all = try Migration.load(from: Migration.locateDirectory())
        for (label, migrations) in [("0001-0008", all.filter { $0.version <= 8 }), ("current", all)] {
            for reader in [false, true] {
                let figures = try await Self.measure(migrations: migrations, longReader: reader)
                print("maintenance \(label)\(reader ? ", with a 3 s read of job_history" : ""): \(figures)")
                #expect(figures.during.count > 0, "completions ran while maintenance did")
            }
        }
    }

    struct Figures: CustomStringConvertible {
        var maintenance: Duration
        var actions: [String]
        var before: [Duration]
        var during: [Duration]

        var description: String {
            func ms(_ duration: Duration) -> String {
                String(
                    format: "%.1f ms",
                    Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)
            }
            func summary(_ list: [Duration]) -> String {
                let sorted = list.sorted()
                guard !sorted.isEmpty else { return "none" }
                let p = { (q: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
                return "\(sorted.count) completions, p50 \(ms(p(0.5))), p99 \(ms(p(0.99))), max \(ms(sorted.last!))"
            }
            return "maintenance took \(ms(maintenance)) (\(actions.joined(separator: "; "))); "
                + "before it: \(summary(before)); during it: \(summary(during))"
        }
    }

    /// One run on a fresh database: a million step runs over 40 days (about 235,000 of them past 31 days),
    /// tomorrow's partition missing and one 40 days old to drop; a worker completing jobs one by one.
    static func measure(migrations: [Migration], longReader: Bool) async throws -> Figures {
        let (url, drop) = try await TestDatabase.makeDatabase()
        let client = PostgresClient(connectionString: url, maxConnections: 4)
        defer { client.close() }
        _ = try await Migrator(client: client, migrations: migrations).migrate()
        let account = try await AccountStore(database: client).create(name: "figures")
        try await client.query(
            """
            INSERT INTO hookline.step_runs (job_id, step_id, attempt, started_at, finished_at, outcome)
            SELECT n, 'send', 1, now() - (1000000 - n) * interval '3.5 seconds',
                   now() - (1000000 - n) * interval '3.5 seconds', 'succeeded'
            FROM generate_series(1, 1000000) n
            """)
        try await client.query("VACUUM ANALYZE hookline.step_runs")
        let tomorrow = try await client.query(
            "SELECT 'job_history_' || to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD')"
        )[0].decode(String.self, at: 0)
        try await client.query("DROP TABLE hookline.\(unsafe: tomorrow)")
        _ = try await client.query("SELECT hookline.create_history_partition(current_date - 40)")
        let queue = JobQueue(database: client)
        try await queue.insert(Array(repeating: NewJob(accountID: account.id), count: 100_000))
        var ids = try await queue.claim(limit: 100_000, worker: "w", leaseSeconds: 3600).map(\.id)[...]

        let clock = ContinuousClock()
        var before: [Duration] = []
        var during: [Duration] = []
        let start = clock.now
        while start.duration(to: clock.now) < .seconds(2), let id = ids.popFirst() {
            let began = clock.now
            try await queue.complete([id], worker: "w")
            before.append(began.duration(to: clock.now))
        }
        let reading: Task<Void, any Error>? =
            longReader
            ? Task { try await client.query("SELECT count(*), pg_sleep(3) FROM hookline.job_history") } : nil
        if longReader { try await Task.sleep(for: .milliseconds(100)) }
        let maintenanceStart = clock.now
        let over = Flag()
        let maintenance = Task { () -> (Duration, [String]) in
            defer { over.set() }
            let actions = try await queue.maintainHistory(keepDays: 31)
            return (maintenanceStart.duration(to: clock.now), actions)
        }
        while !over.isSet, let id = ids.popFirst() {
            let began = clock.now
            try await queue.complete([id], worker: "w")
            during.append(began.duration(to: clock.now))
        }
        let (took, actions) = try await maintenance.value
        try await reading?.value
        client.close()
        await drop()
        return Figures(maintenance: took, actions: actions, before: before, during: during)
    }
}
