import AsyncHTTPClient
import Foundation
import Hookline
import NIOCore
import Postgres
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `hookline work` as operators run it: real supervisor and worker processes on a real database, running the
/// simulated work (each job does what its payload says, and every process keeps its own record of runs).
@Suite("hookline work: worker processes, leases, retries and shutdown")
struct WorkCommandTests {
    @Test func twentyThousandJobsAreEachCompletedOnceByThreeProcessesOfEight() async throws {
        try await WorkFixture.with { fixture in
            let first = try await fixture.enqueue(count: 10_000)
            let metricsPort = try HooklineBinary.freePorts(3)
            // Polling is as good as off: the second half is found through NOTIFY or not at all.
            let work = try fixture.start([
                "--processes", "3", "--concurrency", "8", "--poll-ms", "600000", "--metrics-port", "\(metricsPort)",
            ])
            try await eventually(within: .seconds(180)) { try await fixture.waitingJobs() == 0 }
            let second = try await fixture.enqueue(count: 10_000)
            try await eventually(within: .seconds(180)) { try await fixture.waitingJobs() == 0 }

            var completedByMetrics = 0
            for index in 0..<3 {
                completedByMetrics += try await fixture.metric(
                    "hookline_worker_jobs_completed_total", port: metricsPort + index)
            }
            #expect(completedByMetrics == 20_000)

            work.signal(SIGTERM)
            #expect(try await work.waitForExit() == 0, "\(work.log)")

            let history = try await fixture.database.client.query(
                "SELECT id, state, attempt FROM hookline.job_history")
            let rows = try history.map { try $0.decode((Int64, String, Int).self) }
            #expect(rows.count == 20_000)
            #expect(Set(rows.map(\.0)) == Set(first + second))
            #expect(rows.allSatisfy { $0.1 == "completed" && $0.2 == 1 })

            let records = try fixture.records()
            let starts = Dictionary(grouping: records.filter { $0.event == "start" }, by: \.job)
            #expect(starts.count == 20_000)
            #expect(starts.values.allSatisfy { $0.count == 1 }, "a job ran twice")
            #expect(records.filter { $0.event == "done" }.count == 20_000)
            #expect(Set(records.map(\.pid)).count == 3, "every process took part")
        }
    }

    @Test func aWorkerKilledMidJobHasItsJobsReclaimedAfterTheLeaseAndCompleted() async throws {
        try await WorkFixture.with { fixture in
            let ids = try await fixture.enqueue(count: 3, body: #"{"sleep_ms": 3000}"#)
            let work = try fixture.start(["--processes", "1", "--concurrency", "4", "--lease-seconds", "2"])
            try await eventually(within: .seconds(30)) {
                try fixture.records().filter { $0.event == "start" }.count == 3
            }
            let victim = try #require(try fixture.records().first?.pid)
            kill(victim, SIGKILL)

            try await eventually(within: .seconds(60)) { try await fixture.finished(ids).count == 3 }
            for job in try await fixture.finished(ids) {
                #expect(job.state == "completed")
                #expect(job.attempt == 2, "the killed run counts as an attempt")
                #expect(job.errors.contains("lease expired"))
            }
            let records = try fixture.records()
            for id in ids {
                let runs = records.filter { $0.job == id }
                #expect(runs.filter { $0.event == "start" }.map(\.pid).count == 2)
                #expect(runs.filter { $0.event == "start" && $0.pid == victim }.count == 1)
                #expect(runs.filter { $0.event == "done" }.map(\.pid).allSatisfy { $0 != victim })
                #expect(runs.filter { $0.event == "done" }.count == 1)
            }
            #expect(work.log.contains("worker died; restarting"))
            #expect(work.log.contains("killed by signal 9"))
            // Its replacement leases every job for a while, so that a job that kills workers inside the
            // claim's transaction (where an attempt is not counted) has its attempts counted.
            let replacement = try #require(records.first { $0.event == "done" }?.pid)
            let arguments = try String(contentsOfFile: "/proc/\(replacement)/cmdline", encoding: .utf8)
            #expect(arguments.split(separator: "\0").contains("--leased-claims-seconds"), "\(arguments)")
            work.signal(SIGTERM)
            #expect(try await work.waitForExit() == 0, "\(work.log)")
        }
    }

    @Test func sigtermDrainsRunningJobsAndHandsTheRestBackWithoutSpendingAnAttempt() async throws {
        try await WorkFixture.with { fixture in
            let short = try await fixture.enqueue(count: 2, body: #"{"sleep_ms": 1500}"#, priority: 1)
            let long = try await fixture.enqueue(count: 2, body: #"{"sleep_ms": 60000}"#, priority: 1)
            let waiting = try await fixture.enqueue(count: 1, priority: 0)
            let work = try fixture.start(["--processes", "1", "--concurrency", "4", "--shutdown-seconds", "3"])
            try await eventually(within: .seconds(30)) {
                try fixture.records().filter { $0.event == "start" }.count == 4
            }

            let clock = ContinuousClock()
            let signalled = clock.now
            work.signal(SIGTERM)
            #expect(try await work.waitForExit() == 0, "\(work.log)")
            #expect(signalled.duration(to: clock.now) < .seconds(15))

            // The short jobs finished during the drain.
            let finished = try await fixture.finished(short)
            #expect(finished.count == 2)
            #expect(finished.allSatisfy { $0.state == "completed" && $0.attempt == 1 })
            // The long ones are back, their attempt not spent; the waiting one was never claimed.
            let rows = try await fixture.database.client.query(
                "SELECT id, state, attempt, locked_by FROM hookline.jobs ORDER BY id")
            let queued = try rows.map { try $0.decode((Int64, String, Int, String?).self) }
            #expect(queued.map(\.0) == long + waiting)
            #expect(queued.allSatisfy { $0.1 == "available" && $0.2 == 0 && $0.3 == nil })
            let records = try fixture.records()
            #expect(!records.contains { waiting.contains($0.job) })
            #expect(!records.contains { long.contains($0.job) && $0.event == "done" })
            #expect(work.log.contains("handed unfinished jobs back"))
        }
    }

    @Test func failuresBackOffInRunAtThenDieAndJobsRetryRequeuesThem() async throws {
        let retry = #"{"max_attempts": 3, "backoff_seconds": 1, "max_backoff_seconds": 60}"#
        try await WorkFixture.with(retry: retry) { fixture in
            let failing = try await fixture.enqueue(count: 1, body: #"{"fail": "boom"}"#, maxAttempts: 3)[0]
            let permanent = try await fixture.enqueue(
                count: 1, body: #"{"fail": "bad request", "permanent": true}"#, maxAttempts: 3)[0]
            let work = try fixture.start(["--processes", "1", "--concurrency", "2", "--poll-ms", "50"])

            // The wait before each retry, as run_at minus the time of the failure: 1 s, then 2 s, ±25 %.
            var waits: [Double] = []
            for attempt in 1...2 {
                var wait: Double?
                try await eventually(within: .seconds(20)) {
                    wait = try await fixture.database.client.query(
                        """
                        SELECT extract(epoch FROM run_at - (errors -> -1 ->> 'at')::timestamptz)::float8
                        FROM hookline.jobs WHERE id = \(failing) AND state = 'available' AND attempt = \(attempt)
                        """
                    ).first?.decode(Double.self, at: 0)
                    return wait != nil
                }
                waits.append(wait ?? -1)
            }
            #expect((0.75...1.25).contains(waits[0]), "\(waits)")
            #expect((1.5...2.5).contains(waits[1]), "\(waits)")

            try await eventually(within: .seconds(20)) { try await fixture.finished([failing]).count == 1 }
            let dead = try #require(try await fixture.finished([failing]).first)
            #expect(dead.state == "dead")
            #expect(dead.attempt == 3)
            #expect(dead.lastError == "boom")
            #expect(dead.errorCount == 3)
            let shown = try #require(
                try await HooklineBinary.json(["jobs", "show", "\(failing)"], url: fixture.database.url)
                    as? [String: Any])
            #expect(shown["state"] as? String == "dead")
            #expect(shown["body"] as? String == #"{"fail": "boom"}"#)
            let errors = try #require(shown["errors"] as? [[String: Any]])
            #expect(errors.map { $0["attempt"] as? Int } == [1, 2, 3])
            #expect(errors.allSatisfy { $0["error"] as? String == "boom" && $0["at"] is String })
            let deadAtOnce = try #require(try await fixture.finished([permanent]).first)
            #expect(deadAtOnce.state == "dead")
            #expect(deadAtOnce.attempt == 1, "a permanent failure is not retried")
            #expect(deadAtOnce.lastError == "bad request")

            // An operator retries the first one: it runs its three attempts again, its history kept.
            let retried = try #require(
                try await HooklineBinary.json(["jobs", "retry", "\(failing)"], url: fixture.database.url)
                    as? [String: Any])
            #expect(retried["retried"] as? [Int64] == [failing])
            try await eventually(within: .seconds(20)) {
                try await fixture.finished([failing]).first?.errorCount == 6
            }
            #expect(try fixture.records().filter { $0.job == failing && $0.event == "start" }.count == 6)
            // In bulk, by account: both dead jobs.
            let bulk = try #require(
                try await HooklineBinary.json(
                    ["jobs", "retry", "--account", fixture.account.lowercased], url: fixture.database.url)
                    as? [String: Any])
            #expect(Set(bulk["retried"] as? [Int64] ?? []) == [failing, permanent])
            work.signal(SIGTERM)
            #expect(try await work.waitForExit() == 0, "\(work.log)")
        }
    }

    @Test func aJobWhoseLeaseKeepsBeingExtendedIsNotReclaimedAndPollingFindsWork() async throws {
        try await WorkFixture.with { fixture in
            // No NOTIFY and --poll-only: polling finds the job. Its run outlasts the 1 s lease three times over.
            let id = try await fixture.enqueue(count: 1, body: #"{"sleep_ms": 3500}"#)[0]
            let work = try fixture.start([
                "--processes", "2", "--concurrency", "2", "--lease-seconds", "1", "--poll-only", "--poll-ms", "200",
            ])
            try await eventually(within: .seconds(30)) { try await fixture.finished([id]).count == 1 }
            let job = try #require(try await fixture.finished([id]).first)
            #expect(job.state == "completed")
            #expect(job.attempt == 1)
            #expect(job.errorCount == 0)
            #expect(try fixture.records().filter { $0.event == "start" }.count == 1)
            #expect(!work.log.contains("reclaimed"))
            #expect(work.log.contains("wake_up=poll"))
            work.signal(SIGTERM)
            #expect(try await work.waitForExit() == 0, "\(work.log)")
        }
    }

    @Test func badWorkSettingsAreRefusedWithAMessage() async throws {
        for bad in [
            ["--processes", "0"], ["--concurrency", "0"], ["--lease-seconds", "0"], ["--history-days", "0"],
            ["--poll-ms", "1"], ["--log-level", "loud"], ["--dns-concurrency", "0"], ["--dns-concurrency", "1025"],
            ["--max-template-bytes", "0"], ["--max-output-bytes", "0"], ["--processes", "1025"],
            ["--history-days", "3000000"], ["--shutdown-seconds", "9223372036854775807"],
            ["--lease-seconds", "9223372036854775807"], ["--pool-size", "0"], ["--metrics-port", "0"],
            ["--metrics-port=-3", "--processes", "5"], ["--metrics-port", "65535", "--processes", "2"],
            ["--metrics-port", "9223372036854775807", "--processes", "2"],
        ] {
            let outcome = try await HooklineBinary.run(["work"] + bad + ["--database-url", "postgresql:///none"])
            #expect(outcome.status == 64, "\(bad)")
            #expect(outcome.stderr.contains("Error:"), "\(bad)")
        }
    }
}

/// A migrated database with an account and a cycle, a folder for the simulated work's records, and the
/// helpers the tests share.
struct WorkFixture: Sendable {
    let database: MigratedDatabase
    let account: UUID
    let cycle: UUID
    let recordsDirectory: String

    static func with(retry: String? = nil, _ body: (WorkFixture) async throws -> Void) async throws {
        try await MigratedDatabase.with(maxConnections: 4) { database in
            let account = try await database.makeAccount()
            let definition = #"{"name": "work-test", "steps": []"# + (retry.map { #", "retry": \#($0)"# } ?? "") + "}"
            let cycle = try await database.client.query(
                """
                INSERT INTO hookline.cycles (account_id, name, definition)
                VALUES (\(account.id), 'work-test', \(PostgresJSON(rawJSON: definition))) RETURNING id
                """
            )[0].decode(UUID.self, at: 0)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("work-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try await body(
                WorkFixture(database: database, account: account.id, cycle: cycle, recordsDirectory: directory.path))
        }
    }

    /// `hookline work` with the simulated work, its output kept in a file.
    func start(_ arguments: [String]) throws -> BackgroundProcess {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "DATABASE_URL")
        return try BackgroundProcess(
            HooklineBinary.path,
            ["work", "--database-url", database.url, "--simulated-work", recordsDirectory, "--log-level", "debug"]
                + arguments,
            environment: environment)
    }

    /// Queues `count` jobs with this body (the workers are woken: a NOTIFY in the same transaction); returns
    /// their ids.
    func enqueue(count: Int, body: String = "{}", priority: Int = 0, maxAttempts: Int = 6) async throws -> [Int64] {
        let job = NewJob(
            accountID: account, cycleID: cycle, cycleVersion: 1, priority: Int16(priority), maxAttempts: maxAttempts,
            body: Data(body.utf8))
        return try await JobQueue(database: database.client).insert(Array(repeating: job, count: count))
    }

    /// Jobs still available or running.
    func waitingJobs() async throws -> Int {
        try await database.client.query("SELECT count(*) FROM hookline.jobs")[0].decode(Int.self, at: 0)
    }

    struct Finished {
        var id: Int64
        var state: String
        var attempt: Int
        var lastError: String?
        var errors: String
        var errorCount: Int
    }

    /// Those of `ids` that are in history.
    func finished(_ ids: [Int64]) async throws -> [Finished] {
        try await database.client.query(
            """
            SELECT id, state, attempt, last_error, errors::text, jsonb_array_length(errors)
            FROM hookline.job_history WHERE id = ANY(\(ids)) ORDER BY id
            """
        ).map { row in
            let (id, state, attempt, lastError, errors, count) = try row.decode(
                (Int64, String, Int, String?, String, Int).self)
            return Finished(
                id: id, state: state, attempt: attempt, lastError: lastError, errors: errors, errorCount: count)
        }
    }

    struct Record: Hashable {
        var pid: Int32
        var event: String
        var job: Int64
        var attempt: Int
    }

    /// Every run the simulated work wrote down, in every process's record.
    func records() throws -> [Record] {
        var records: [Record] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: recordsDirectory) {
            guard file.hasPrefix("worker-"), let pid = Int32(file.dropFirst(7).dropLast(4)) else { continue }
            let text = try String(contentsOfFile: "\(recordsDirectory)/\(file)", encoding: .utf8)
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count >= 3, let job = Int64(fields[1]), let attempt = Int(fields[2]) else { continue }
                records.append(Record(pid: pid, event: String(fields[0]), job: job, attempt: attempt))
            }
        }
        return records
    }

    /// The value of a counter on a worker's /metrics.
    func metric(_ name: String, port: Int) async throws -> Int {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(5))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let line = text.split(separator: "\n").first { $0.hasPrefix("\(name) ") }
        return line.flatMap { Double($0.split(separator: " ")[1]) }.map { Int($0) } ?? -1
    }
}

@Suite("hookline work when a worker cannot start its metrics")
struct WorkMetricsPortTests {
    @Test func aWorkerWhoseMetricsPortIsTakenDiesAndIsRestartedInsteadOfHanging() async throws {
        try await WorkFixture.with { fixture in
            // Something else listens on the port the worker wants.
            let port = try HooklineBinary.freePort()
            let blocker = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(blocker) }
            let bound = HooklineBinary.bindLoopback(blocker, port: port)
            #expect(bound)
            #expect(listen(blocker, 1) == 0)
            let work = try fixture.start(["--processes", "1", "--metrics-port", "\(port)"])
            try await eventually(within: .seconds(20)) { work.log.contains("worker died; restarting") }
            work.signal(SIGTERM)
            #expect(try await work.waitForExit(timeout: .seconds(30)) == 0, "\(work.log)")
        }
    }
}
