import ArgumentParser
import Foundation
import HooklineWorker
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension HooklineCLI {
    /// `hookline work`: the supervisor, which runs the worker processes (this same command, with the hidden
    /// `--worker-index`).
    struct Work: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the worker processes that claim and run queued jobs.",
            discussion: """
                A supervisor keeps --processes worker processes running (restarting one that dies) and each runs \
                up to --concurrency jobs at once. Start more on this or other hosts against the same database \
                for more throughput. SIGTERM or SIGINT drains: no new claims, running jobs get \
                --shutdown-seconds to finish, the rest go back to the queue without counting the attempt.
                """)

        @OptionGroup var database: DatabaseOptions

        @Option(help: .setting("Worker processes", env: "HOOKLINE_WORKER_PROCESSES", unit: "n"))
        var processes: Int?

        @Option(help: .setting("Jobs each process runs at once", env: "HOOKLINE_WORKER_CONCURRENCY", unit: "n"))
        var concurrency: Int?

        @Option(
            help: .setting(
                "How long a claimed job is held before another worker may reclaim it; renewed while it runs",
                env: "HOOKLINE_LEASE_SECONDS", unit: "s"))
        var leaseSeconds: Int?

        @Flag(help: "Poll instead of LISTEN, for transaction-mode poolers (env: HOOKLINE_POLL_ONLY=1).")
        var pollOnly = false

        @Option(
            name: .customLong("poll-ms"),
            help: .setting(
                "How often an idle worker looks for jobs unprompted; 1000 by default", env: "HOOKLINE_POLL_MS",
                unit: "ms"))
        var pollMilliseconds: Int?

        @Option(help: .setting("Days of finished jobs kept in job_history", env: "HOOKLINE_HISTORY_DAYS", unit: "days"))
        var historyDays: Int?

        @Option(
            help: .setting(
                "After SIGTERM, how long running jobs may take before they are handed back",
                env: "HOOKLINE_SHUTDOWN_SECONDS", unit: "s"))
        var shutdownSeconds: Int?

        @Option(help: .setting("Most jobs claimed by one statement", env: "HOOKLINE_CLAIM_BATCH", unit: "n"))
        var claimBatch: Int?

        @Option(
            help: .setting(
                "Destination look-ups (DNS) of http steps at once, per process", env: "HOOKLINE_DNS_CONCURRENCY",
                unit: "n"))
        var dnsConcurrency: Int?

        @Option(
            help: .setting(
                "Bytes one step's templates may render together; past it the step fails for good",
                env: "HOOKLINE_MAX_TEMPLATE_BYTES", unit: "bytes"))
        var maxTemplateBytes: Int?

        @Option(
            help: .setting(
                "Bytes a job's step outputs may come to together; a step whose output would pass it fails for good",
                env: "HOOKLINE_MAX_OUTPUT_BYTES", unit: "bytes"))
        var maxOutputBytes: Int?

        @Option(
            help: .setting(
                "Serve Prometheus metrics: worker i on this port + i; off by default", env: "HOOKLINE_METRICS_PORT",
                unit: "port"))
        var metricsPort: Int?

        @Option(help: .setting("Address the metrics listen on", env: "HOOKLINE_METRICS_HOST", unit: "host"))
        var metricsHost: String?

        @Option(
            help: .setting(
                "PostgreSQL connections per process; default concurrency + 4, at most 32",
                env: "HOOKLINE_WORKER_POOL_SIZE", unit: "n"))
        var poolSize: Int?

        @OptionGroup var log: LogOptions

        @Flag(help: "Let http steps call loopback and private networks (env: HOOKLINE_ALLOW_PRIVATE_DESTINATIONS=1).")
        var allowPrivateDestinations = false

        @Option(
            name: .customLong("simulated-work"),
            help: ArgumentHelp(
                "Testing aid: run each job as its payload instructs and record every run in this folder.",
                visibility: .hidden))
        var simulatedWork: String?

        @Option(name: .customLong("worker-index"), help: ArgumentHelp(visibility: .hidden))
        var workerIndex: Int?

        @Option(name: .customLong("supervisor-pid"), help: ArgumentHelp(visibility: .hidden))
        var supervisorPID: Int32?

        /// Given by the supervisor to a worker that replaces one that died (see
        /// `WorkerSettings.leasedClaimsUntil`).
        @Option(name: .customLong("leased-claims-seconds"), help: ArgumentHelp(visibility: .hidden))
        var leasedClaimsSeconds: Int?

        /// How long a worker that replaces a dead one leases every job it claims.
        static let leasedClaimsAfterDeath = 300

        var settings: WorkerSettings {
            get throws {
                var settings = WorkerSettings()
                try Env.set(&settings, \.processes, processes, "HOOKLINE_WORKER_PROCESSES")
                try Env.set(&settings, \.concurrency, concurrency, "HOOKLINE_WORKER_CONCURRENCY")
                try Env.set(&settings, \.leaseSeconds, leaseSeconds, "HOOKLINE_LEASE_SECONDS")
                settings.pollOnly = try pollOnly || Env.onOff("HOOKLINE_POLL_ONLY") == true
                try Env.set(&settings, \.pollInterval, pollMilliseconds, "HOOKLINE_POLL_MS") { .milliseconds($0) }
                try Env.set(&settings, \.historyDays, historyDays, "HOOKLINE_HISTORY_DAYS")
                try Env.set(&settings, \.shutdownSeconds, shutdownSeconds, "HOOKLINE_SHUTDOWN_SECONDS")
                try Env.set(&settings, \.claimBatch, claimBatch, "HOOKLINE_CLAIM_BATCH")
                try Env.set(&settings, \.dnsConcurrency, dnsConcurrency, "HOOKLINE_DNS_CONCURRENCY")
                try Env.set(
                    &settings, \.cycleLimits.maxTemplateBytes, maxTemplateBytes, "HOOKLINE_MAX_TEMPLATE_BYTES")
                try Env.set(&settings, \.cycleLimits.maxOutputBytes, maxOutputBytes, "HOOKLINE_MAX_OUTPUT_BYTES")
                return settings
            }
        }

        func validate() throws {
            let settings = try settings
            // Upper bounds too: past them a value is a mistake, and some would overflow (a lease in
            // milliseconds, the shutdown's grace) or fail every hour (a retention date before year 1).
            try ValidationError.check(settings.processes, in: 1...1_024, "--processes")
            try ValidationError.check(settings.concurrency, in: 1...10_000, "--concurrency")
            try ValidationError.check(settings.leaseSeconds, in: 1...86_400, "--lease-seconds")
            guard settings.pollInterval >= .milliseconds(10) else {
                throw ValidationError("--poll-ms must be at least 10")
            }
            try ValidationError.check(settings.historyDays, in: 1...3_650, "--history-days")
            try ValidationError.check(settings.shutdownSeconds, in: 0...86_400, "--shutdown-seconds")
            try ValidationError.check(settings.claimBatch, in: 1...10_000, "--claim-batch")
            if let pool = try poolSize ?? Env.integer("HOOKLINE_WORKER_POOL_SIZE") {
                try ValidationError.check(pool, in: DatabaseOptions.poolSizes, "--pool-size")
            }
            guard (1...WorkerSettings.mostDNSConcurrency).contains(settings.dnsConcurrency) else {
                throw ValidationError("--dns-concurrency must be from 1 to \(WorkerSettings.mostDNSConcurrency)")
            }
            guard settings.cycleLimits.maxTemplateBytes >= 1 else {
                throw ValidationError("--max-template-bytes must be at least 1")
            }
            guard settings.cycleLimits.maxOutputBytes >= 1 else {
                throw ValidationError("--max-output-bytes must be at least 1")
            }
            if let port = try metricsPort ?? Env.integer("HOOKLINE_METRICS_PORT"),
                !(1...65_536 - settings.processes).contains(port)
            {
                throw ValidationError(
                    "--metrics-port must be from 1 to \(65_536 - settings.processes): one port for each of the processes"
                )
            }
        }

        func run() async throws {
            LargeAllocations.returnToTheSystemWhenFreed()
            try await reportingFailures {
                if let workerIndex {
                    try await runWorker(index: workerIndex)
                } else {
                    try await supervise()
                }
            }
        }

        /// The supervisor: the worker processes are this program again, with the same arguments.
        private func supervise() async throws {
            let settings = try settings
            _ = try database.url
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            let given = Array(CommandLine.arguments.dropFirst())
            let supervisor = getpid()
            let logger = log.logger("hookline.supervisor")
            let service = WorkerSupervisor(
                executable: executable,
                arguments: { index, replacesDead in
                    given + ["--worker-index", String(index), "--supervisor-pid", String(supervisor)]
                        + (replacesDead ? ["--leased-claims-seconds", String(Self.leasedClaimsAfterDeath)] : [])
                },
                processes: settings.processes, grace: .seconds(settings.shutdownSeconds + 10), logger: logger)
            let group = ServiceGroup(
                configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }

        /// One worker process.
        private func runWorker(index: Int) async throws {
            var settings = try settings
            settings.groupIndex = index
            settings.groupSize = settings.processes
            settings.leasedClaimsUntil = leasedClaimsSeconds.map { .now + .seconds($0) }
            let logger = log.logger("hookline.worker.\(index)")
            let pool = try poolSize ?? Env.integer("HOOKLINE_WORKER_POOL_SIZE") ?? min(settings.concurrency + 4, 32)
            let client = try database.client(maxConnections: pool, applicationName: "hookline-work")
            // Graceful shutdown closes the pool as a service; a failed group leaves it (and the HTTP client)
            // to these.
            defer { client.closeBeforeExit() }
            let definitions = CycleDefinitions(database: client)
            let allowPrivate =
                try allowPrivateDestinations || Env.onOff("HOOKLINE_ALLOW_PRIVATE_DESTINATIONS") == true
            let caller = HTTPCaller(allowPrivateDestinations: allowPrivate, resolverThreads: settings.dnsConcurrency)
            let runner: any JobRunner =
                try simulatedWork.map { try SimulatedWork(directory: $0) }
                ?? CycleRunner(
                    database: client, definitions: definitions, caller: caller, leaseSeconds: settings.leaseSeconds,
                    limits: settings.cycleLimits, logger: logger)
            let metrics = WorkerMetrics()
            let worker = Worker(
                settings: settings, database: client, runner: runner, logger: logger, metrics: metrics,
                definitions: definitions)
            // Graceful shutdown stops services last to first: the worker drains while metrics are still served,
            // and the database and the HTTP client close after it.
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                .init(service: client), .init(service: caller),
            ]
            if let port = try metricsPort ?? Env.integer("HOOKLINE_METRICS_PORT") {
                let host = metricsHost ?? Env.string("HOOKLINE_METRICS_HOST") ?? "127.0.0.1"
                services.append(
                    .init(service: buildMetricsServer(metrics: metrics, host: host, port: port + index, logger: logger))
                )
            }
            if let supervisorPID {
                services.append(
                    .init(
                        service: OrphanWatch(parent: supervisorPID),
                        successTerminationBehavior: .gracefullyShutdownGroup))
            }
            services.append(.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup))
            let group = ServiceGroup(
                configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                try? await caller.shutdown()
                throw error
            }
        }
    }
}

/// Ends a worker process (gracefully) whose supervisor is gone, so that a killed supervisor leaves no
/// orphans behind: the worker's parent changes when its supervisor dies.
struct OrphanWatch: Service {
    var parent: Int32

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if getppid() != parent {
                Logger(label: "hookline.worker").warning("the supervisor is gone; stopping")
                return
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
