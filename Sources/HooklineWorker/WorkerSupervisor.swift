import Foundation
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps `processes` worker processes running: starts them, restarts one that dies (after a pause that
/// doubles while it keeps dying soon after starting, from 1 s up to 30 s, and logs why it died), and on
/// graceful shutdown passes SIGTERM on to every worker and waits for them to drain. A worker that has not
/// exited `grace` after that gets SIGKILL (its jobs then come back when their leases run out).
public final class WorkerSupervisor: Service, Sendable {
    private let executable: String
    private let arguments: @Sendable (_ index: Int, _ replacesDead: Bool) -> [String]
    private let processes: Int
    private let grace: Duration
    private let logger: Logger

    private struct State {
        var children: [Int: pid_t] = [:]
        var stopping = false
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - executable: the program each worker runs (this one, as a rule).
    ///   - arguments: the arguments of worker number `index` (from 0), and whether it replaces one that died.
    ///   - grace: how long workers get to drain after SIGTERM before SIGKILL.
    public init(
        executable: String, arguments: @escaping @Sendable (_ index: Int, _ replacesDead: Bool) -> [String],
        processes: Int, grace: Duration,
        logger: Logger
    ) {
        self.executable = executable
        self.arguments = arguments
        self.processes = processes
        self.grace = grace
        self.logger = logger
    }

    public func run() async throws {
        logger.info("supervisor started", metadata: ["processes": "\(processes)", "pid": "\(getpid())"])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<processes {
                    group.addTask { await self.keepRunning(index) }
                }
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
        logger.info("supervisor stopped: every worker has exited")
    }

    /// Stops restarting workers and asks each to drain (SIGTERM); SIGKILL after the grace period.
    public func shutdown() {
        let children = state.withLock { state -> [pid_t] in
            guard !state.stopping else { return [] }
            state.stopping = true
            return Array(state.children.values)
        }
        guard !children.isEmpty else { return }
        logger.info("stopping workers", metadata: ["pids": "\(children.map(String.init).joined(separator: ","))"])
        for pid in children { kill(pid, SIGTERM) }
        let grace = grace
        Task { [self] in
            try? await Task.sleep(for: grace)
            let left = state.withLock { Array($0.children.values) }
            for pid in left {
                logger.warning("worker did not drain in time; killing it", metadata: ["pid": "\(pid)"])
                kill(pid, SIGKILL)
            }
        }
    }

    private var stopping: Bool { state.withLock { $0.stopping } }

    private func keepRunning(_ index: Int) async {
        var pause = Duration.seconds(1)
        var replacesDead = false
        let clock = ContinuousClock()
        while !stopping {
            let pid: pid_t
            do {
                pid = try spawn(arguments(index, replacesDead))
            } catch {
                logger.error("could not start a worker", metadata: ["worker": "\(index)", "error": "\(error)"])
                await sleep(pause)
                pause = min(pause * 2, .seconds(30))
                continue
            }
            let started = clock.now
            let registered = state.withLock { state -> Bool in
                state.children[index] = pid
                return !state.stopping
            }
            if !registered { kill(pid, SIGTERM) }  // shutdown began while it was starting
            let status = await waitForExit(pid)
            state.withLock { _ = $0.children.removeValue(forKey: index) }
            if stopping {
                logger.info("worker exited", metadata: ["worker": "\(index)", "pid": "\(pid)", "status": "\(status)"])
                return
            }
            if started.duration(to: clock.now) >= .seconds(30) { pause = .seconds(1) }
            logger.error(
                "worker died; restarting it",
                metadata: ["worker": "\(index)", "pid": "\(pid)", "status": "\(status)", "restart_in": "\(pause)"])
            replacesDead = true
            await sleep(pause)
            pause = min(pause * 2, .seconds(30))
        }
    }

    /// Sleeps, but no longer than until shutdown begins.
    private func sleep(_ duration: Duration) async {
        let clock = ContinuousClock()
        let end = clock.now + duration
        while !stopping, clock.now < end {
            try? await Task.sleep(for: min(.milliseconds(100), clock.now.duration(to: end)))
        }
    }

    private func spawn(_ arguments: [String]) throws -> pid_t {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        // At most two malloc arenas per worker unless the operator chose otherwise: glibc makes up to eight
        // per core, one per busy thread, and a worker has a thread per pooled connection; the extra arenas
        // hold on to memory.
        var environment = ProcessInfo.processInfo.environment
        if environment["MALLOC_ARENA_MAX"] == nil { environment["MALLOC_ARENA_MAX"] = "2" }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, nil, nil, argv, envp)
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        return pid
    }

    /// Waits for the process to end, and says how it ended. `waitpid` is asked without blocking, every 50 ms:
    /// a blocking one would hold a thread for each worker process's whole life.
    private func waitForExit(_ pid: pid_t) async -> String {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno != EINTR) { break }
            // Detached, so not cancelled with the caller: a supervisor that stops still collects its children
            // (a cancelled sleep would return at once, and this would spin).
            await Task.detached { try? await Task.sleep(for: .milliseconds(50)) }.value
        }
        let signal = status & 0x7f
        return signal == 0
            ? "exit \((status >> 8) & 0xff)"
            : "killed by signal \(signal) (\(strsignal(signal).map { String(cString: $0) } ?? "?"))"
    }
}
