import Foundation
import ServiceLifecycle
import Synchronization

/// Keeps one dedicated connection LISTENing on a set of channels and hands every notification to a handler,
/// on a thread of its own. Reconnects after a failure.
///
/// Notifications sent while the listener was disconnected are lost (PostgreSQL does not queue them for
/// absent listeners), so the handler gets ``Event/connected`` after every (re)connection, once LISTEN is in
/// place: state that notifications keep fresh must be rebuilt or flushed there.
///
/// As a ServiceLifecycle `Service` it listens from ``run()`` until graceful shutdown; ``start()`` and
/// ``stop()`` serve code that runs it by hand.
public final class PostgresListener: Service, Sendable {
    /// What the handler is told.
    public enum Event: Sendable {
        /// LISTEN is in place on every channel: from now on no notification is missed.
        case connected
        /// The connection failed or broke; notifications may be missed until the next `connected`.
        case disconnected(PostgresError)
        /// A notification arrived.
        case notification(PostgresNotification)
    }

    private struct State {
        var started = false
        var stopped = false
        var exited = false
        /// ``run()`` waiting for the thread to close its connection.
        var exitWaiter: CheckedContinuation<Void, Never>?
        var thread: JoinableThread?
    }

    private let connectionString: String
    private let channels: [String]
    private let reconnectDelay: Duration
    private let pingInterval: Duration
    private let pingTimeout: Duration
    private let probeTimeout: Duration
    private let handler: @Sendable (Event) -> Void
    private let stopSignal = PostgresCancellation()
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - channels: the channels to LISTEN on.
    ///   - reconnectDelay: the pause between failed connection attempts.
    ///   - pingInterval: after this long without a notification, the listener sends `SELECT 1`
    ///   - pingTimeout: and gives the connection up (``Event/disconnected(_:)``) when that has no answer
    ///     within this long: a connection dropped without a word (a NAT or firewall forgetting it, a server
    ///     host gone) is noticed within `pingInterval + pingTimeout`, 20 s by default, besides the TCP
    ///     keepalives every connection has.
    ///   - probeTimeout: how long the listener waits for a notification of its own, sent to it from another
    ///     session once LISTEN is in place, before it reports ``Event/connected``: LISTEN through a transaction-mode pooler succeeds but
    ///     delivers nothing (the session it ran in is handed to other clients), and caches trusted on that
    ///     word would keep what a revocation evicts. Without it the listener reports
    ///     ``Event/disconnected(_:)`` saying so, and tries again after `probeRetryDelay`.
    ///   - handler: called on the listener's thread, one event at a time; keep it short.
    public init(
        connectionString: String, channels: [String], reconnectDelay: Duration = .milliseconds(250),
        pingInterval: Duration = .seconds(10), pingTimeout: Duration = .seconds(10),
        probeTimeout: Duration = .seconds(5), handler: @escaping @Sendable (Event) -> Void
    ) {
        self.connectionString = connectionString
        self.channels = channels
        self.reconnectDelay = reconnectDelay
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.probeTimeout = probeTimeout
        self.handler = handler
    }

    /// Starts the listener's thread. Calling it again does nothing.
    public func start() {
        let shouldStart = state.withLock { state -> Bool in
            guard !state.started, !state.stopped else { return false }
            state.started = true
            return true
        }
        guard shouldStart else { return }
        // Made and stored under the lock, which the thread's end takes too: whoever joins finds it stored.
        state.withLock { state in
            state.thread = JoinableThread(name: "postgres-listener") { [self] in
                listen()
                let waiter = self.state.withLock { state in
                    state.exited = true
                    return state.exitWaiter.take()
                }
                waiter?.resume()
                finished.signal()
            }
        }
    }

    /// Stops listening and waits (blocking) until the thread has closed its connection.
    public func stop() {
        let wasRunning = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return state.started && !state.stopped
        }
        stopSignal.cancel()
        if wasRunning {
            finished.wait()
            state.withLock { $0.thread }?.join()
        }
    }

    /// Listens until graceful shutdown, then stops and returns once the connection is closed, without
    /// blocking a thread of the caller's.
    public func run() async {
        start()
        try? await gracefulShutdown()
        state.withLock { $0.stopped = true }
        stopSignal.cancel()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // A listener that never started (stopped before) has no thread to wait for.
            let done = state.withLock { state -> Bool in
                let done = state.exited || !state.started
                if !done { state.exitWaiter = continuation }
                return done
            }
            if done { continuation.resume() }
        }
        // The thread has signalled; joining it (off the cooperative pool) waits for its exit as well, so that
        // a program that ends next does not race the thread's exit-time destructors.
        if let thread = state.withLock({ $0.thread }) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    thread.join()
                    continuation.resume()
                }
            }
        }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func listen() {
        while !isStopped {
            do {
                let connection = try PostgresConnection(connectionString, applicationName: "hookline-listener")
                try connection.withCancellation(stopSignal) {
                    for channel in channels { try connection.listen(channel) }
                    try probe(connection)
                    handler(.connected)
                    let clock = ContinuousClock()
                    var lastHeard = clock.now
                    while !isStopped {
                        let quiet = lastHeard.duration(to: clock.now)
                        if quiet >= pingInterval {
                            try connection.query("SELECT 1", timeout: pingTimeout)
                            lastHeard = clock.now
                        } else if let notification = try connection.waitForNotification(
                            timeout: min(.seconds(5), pingInterval - quiet))
                        {
                            lastHeard = clock.now
                            // Another listener's probe (they share the channel) says nothing to the handler.
                            if notification.channel != Self.probeChannel { handler(.notification(notification)) }
                        }
                    }
                }
            } catch let error as PostgresError {
                if error.kind == .cancelled || isStopped { return }
                handler(.disconnected(error))
            } catch is NotDelivered {
                if isStopped { return }
                handler(
                    .disconnected(
                        PostgresError(
                            kind: .connectionLost,
                            message:
                                "LISTEN does not deliver notifications on this connection (a transaction-mode pooler?):"
                                + " give a direct connection for LISTEN (--listen-database-url)")))
                pause(Self.probeRetryDelay)
            } catch {
                handler(.disconnected(PostgresError(kind: .connectionLost, message: "\(error)")))
            }
            pause()
        }
    }

    /// The channel of the listeners' probes (``probe(_:)``).
    static let probeChannel = "hookline_listener_probe"
    /// How long a listener whose probe went unanswered waits before it connects again: a pooler will not
    /// start delivering, so it is not tried every quarter second, nor logged as often.
    static let probeRetryDelay: Duration = .seconds(30)

    /// The probe did not come back within `probeTimeout`.
    private struct NotDelivered: Error {}

    /// Has a notification with a payload of its own sent to it from another session, and waits for it: only a
    /// connection that delivers notifications is reported ``Event/connected``. From another session, because a
    /// session's own NOTIFY comes back in its statement's answer, which a transaction-mode pooler passes on like
    /// any answer: it is what comes between statements that it loses. Notifications of the listened channels
    /// that arrive meanwhile are handed on.
    private func probe(_ connection: PostgresConnection) throws {
        try connection.listen(Self.probeChannel)
        let nonce = UUID().uuidString
        let sender = try PostgresConnection(connectionString, applicationName: "hookline-listener-probe")
        try sender.query("SELECT pg_notify(\(Self.probeChannel), \(nonce))", timeout: probeTimeout)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: probeTimeout)
        while clock.now < deadline {
            guard let notification = try connection.waitForNotification(timeout: clock.now.duration(to: deadline))
            else { continue }
            if notification.channel == Self.probeChannel {
                if notification.payload == nonce { return }
            } else {
                handler(.notification(notification))
            }
        }
        throw NotDelivered()
    }

    /// Waits `delay` (`reconnectDelay` unless told), waking early when stopped.
    private func pause(_ delay: Duration? = nil) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: delay ?? reconnectDelay)
        while !isStopped, clock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }
}
