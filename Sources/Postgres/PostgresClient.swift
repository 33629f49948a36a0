import DequeModule
import Foundation
import ServiceLifecycle
import Synchronization

/// A pool of PostgreSQL connections with an async API.
///
/// libpq blocks, so the pool owns one thread per connection (at most ``Configuration/maxConnections``) and
/// runs every request's body there: Swift's cooperative threads and NIO's event loops only await. Requests
/// queue in arrival order while every connection is busy. A connection is opened on first use and replaced
/// on the next use after it, or any other connection of the pool, breaks. Cancelling the awaiting task
/// cancels the statement it is running (libpq's cancel request) or takes the request out of the queue if it
/// has not started.
///
/// The bodies given to ``withConnection(_:)`` are synchronous code that runs on the pool's thread: keep them
/// to database work and return plain values.
///
/// As a ServiceLifecycle `Service` (listed before the services that use it), the pool closes once graceful
/// shutdown reaches it, after those services have stopped, and ``run()`` returns when its connections are
/// closed.
public final class PostgresClient: Service, Sendable {
    /// How the pool connects and how large it may grow.
    public struct Configuration: Sendable {
        /// A libpq connection string or `postgresql://` URI.
        public var connectionString: String
        /// The most connections (and threads) the pool opens.
        public var maxConnections: Int
        /// Shown in `pg_stat_activity.application_name`.
        public var applicationName: String
        /// Whether ``PostgresQuery/prepared(_:)`` statements are prepared on the server; off, they run like
        /// any other statement (for poolers in transaction mode that do not track prepared statements).
        public var preparedStatements: Bool
        /// The sessions' `statement_timeout`; a connection whose server has not answered a statement 5 s
        /// after it is given up (see ``PostgresConnection/init(_:applicationName:preparedStatements:statementTimeout:)``),
        /// and a request that waited longer than this for a connection fails without running.
        /// `nil`: the server's setting, and no client-side limit.
        public var statementTimeout: Duration?
        /// Where the owner's LISTEN connection goes (``PostgresListener``): the pool's own connection string
        /// unless the pool goes through a transaction-mode pooler (PgBouncer), which cannot hold a
        /// subscription; then a direct one to the primary.
        public var listenConnectionString: String
        /// How long a connection that moved more than ``PostgresConnection/idleBufferBytes`` in one statement
        /// or row may stay idle before the pool closes it, and libpq's buffers with it.
        public var buffersKeptIdle: Duration

        public init(
            connectionString: String, maxConnections: Int = 8, applicationName: String = "hookline",
            preparedStatements: Bool = true, statementTimeout: Duration? = nil, listenConnectionString: String? = nil,
            buffersKeptIdle: Duration = .seconds(1)
        ) {
            self.buffersKeptIdle = buffersKeptIdle
            self.connectionString = connectionString
            self.listenConnectionString = listenConnectionString ?? connectionString
            self.maxConnections = max(1, maxConnections)
            self.applicationName = applicationName
            self.preparedStatements = preparedStatements
            self.statementTimeout = statementTimeout
        }
    }

    public let configuration: Configuration
    private let queue: RequestQueue
    private let finished: DispatchGroup
    private let threads: [JoinableThread]

    /// Starts the pool's threads. Connections open when first needed.
    public init(configuration: Configuration) {
        self.configuration = configuration
        queue = RequestQueue()
        let finished = DispatchGroup()
        self.finished = finished
        var threads: [JoinableThread] = []
        for index in 0..<configuration.maxConnections {
            let slot = Slot(configuration: configuration, queue: queue)
            finished.enter()
            threads.append(
                JoinableThread(name: "postgres-\(index)") {
                    slot.run()
                    finished.leave()
                })
        }
        self.threads = threads
    }

    /// A pool on `connectionString` with up to `maxConnections` connections.
    public convenience init(connectionString: String, maxConnections: Int = 8) {
        self.init(configuration: Configuration(connectionString: connectionString, maxConnections: maxConnections))
    }

    deinit { queue.close() }

    /// Stops the pool: queued requests fail with `poolClosed`, running ones finish, then the threads close
    /// their connections and exit. With `timeout`, blocks until they have (that long at most): a process
    /// that exits while libpq is still closing a connection on another thread can crash in OpenSSL's
    /// exit-time cleanup, so a program about to exit waits; code that goes on running need not.
    public func close(waitingUpTo timeout: Duration? = nil) {
        queue.close()
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            guard finished.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else { return }
            // Every thread has left its loop; joining waits for its exit-time destructors too.
            for thread in threads { thread.join() }
        }
    }

    /// Runs until graceful shutdown, then closes the pool and returns once every connection is closed (5 s at
    /// most: a process that exits while libpq is still closing a connection on another thread can crash in
    /// OpenSSL's exit-time cleanup).
    ///
    /// Cancelled instead (its group failed), it returns and leaves the pool open: a group cancels all its
    /// services at once, and the ones after this may still be finishing their work on it. The owner closes
    /// the pool once the group has returned.
    public func run() async {
        do { try await gracefulShutdown() } catch { return }
        queue.close()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Mutex(Optional(continuation))
            let resume: @Sendable () -> Void = { once.withLock { $0.take() }?.resume() }
            finished.notify(queue: .global(), execute: resume)
            DispatchQueue.global().asyncAfter(deadline: .now() + 5, execute: resume)
        }
    }

    /// Runs `body` with a connection on one of the pool's threads and returns its value.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let cancellation = PostgresCancellation()
        let id = queue.makeID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let request = Request(
                    id: id, cancellation: cancellation, enqueuedAt: .now,
                    work: { connection in continuation.resume(with: Result { try body(connection) }) },
                    fail: { continuation.resume(throwing: $0) })
                queue.enqueue(request)
            }
        } onCancel: {
            cancellation.cancel()
            queue.remove(id: id)?.fail(PostgresError(kind: .cancelled, message: "cancelled while queued"))
        }
    }

    /// Runs `body` in a transaction on one of the pool's connections: committed when it returns, rolled
    /// back when it throws.
    public func withTransaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in try connection.transaction(body) }
    }

    /// Runs one statement and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresResult {
        try await withConnection { connection in try connection.query(query) }
    }
}

/// A caller's request, waiting for a thread.
private struct Request: Sendable {
    let id: UInt64
    let cancellation: PostgresCancellation
    let enqueuedAt: ContinuousClock.Instant
    let work: @Sendable (PostgresConnection) -> Void
    let fail: @Sendable (any Error) -> Void
}

/// The requests waiting for a thread, in arrival order. A request taken is gone from it: what its work holds
/// (a statement's values: for a batch of deliveries, many megabytes) is freed once it has run.
///
/// `@unchecked Sendable`: every stored property is read and written only while `condition` is locked.
private final class RequestQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting = Deque<Request>()
    private var nextID: UInt64 = 0
    private var closed = false
    private var lastLoss: ContinuousClock.Instant?

    /// A connection of the pool broke at `instant`.
    func connectionLost(at instant: ContinuousClock.Instant) {
        condition.lock()
        defer { condition.unlock() }
        if lastLoss.map({ $0 < instant }) ?? true { lastLoss = instant }
    }

    /// Whether a connection opened at `opened` was opened before a connection of the pool last broke.
    func predatesLoss(_ opened: ContinuousClock.Instant) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return lastLoss.map { opened <= $0 } ?? false
    }

    func makeID() -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        nextID += 1
        return nextID
    }

    func enqueue(_ request: Request) {
        condition.lock()
        if closed {
            condition.unlock()
            request.fail(PostgresError(kind: .poolClosed, message: "the pool is closed"))
            return
        }
        waiting.append(request)
        condition.signal()
        condition.unlock()
    }

    /// What a pool thread waits for.
    enum Next {
        case request(Request)
        /// None came within the time given.
        case idle
        case closed
    }

    /// The next request, waiting for one (`limit` at most, if given).
    func next(waitingAtMost limit: Duration? = nil) -> Next {
        condition.lock()
        defer { condition.unlock() }
        let deadline = limit.map { Date(timeIntervalSinceNow: $0 / .seconds(1)) }
        while waiting.isEmpty && !closed {
            if let deadline {
                if !condition.wait(until: deadline), waiting.isEmpty, !closed { return .idle }
            } else {
                condition.wait()
            }
        }
        return waiting.popFirst().map { .request($0) } ?? .closed
    }

    /// Takes a request that has not started out of the queue.
    func remove(id: UInt64) -> Request? {
        condition.lock()
        defer { condition.unlock() }
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return nil }
        return waiting.remove(at: index)
    }

    func close() {
        condition.lock()
        closed = true
        let abandoned = waiting
        waiting.removeAll()
        condition.broadcast()
        condition.unlock()
        for request in abandoned { request.fail(PostgresError(kind: .poolClosed, message: "the pool is closed")) }
    }
}

/// One pool thread and the connection it owns.
///
/// `@unchecked Sendable`: handed to its thread once at start; from then on only that thread touches it.
private final class Slot: @unchecked Sendable {
    let configuration: PostgresClient.Configuration
    let queue: RequestQueue
    var connection: PostgresConnection?
    var openedAt: ContinuousClock.Instant = .now

    init(configuration: PostgresClient.Configuration, queue: RequestQueue) {
        self.configuration = configuration
        self.queue = queue
    }

    func run() {
        while true {
            let holdsBuffers = (connection?.largestMessage ?? 0) > PostgresConnection.idleBufferBytes
            let request: Request
            switch queue.next(waitingAtMost: holdsBuffers ? configuration.buffersKeptIdle : nil) {
            case .request(let next): request = next
            case .idle:
                connection = nil  // and libpq's large buffers with it
                continue
            case .closed:
                connection = nil
                return
            }
            if request.cancellation.isCancelled {
                request.fail(PostgresError(kind: .cancelled, message: "cancelled before it started"))
                continue
            }
            // With a statement timeout, a request that waited longer than that for a connection (the server
            // unreachable, every connection stuck) fails at once instead of waiting its turn to fail slowly.
            if let limit = configuration.statementTimeout, request.enqueuedAt.duration(to: .now) > limit {
                request.fail(PostgresError(kind: .connectionFailed, message: "no connection was free within \(limit)"))
                continue
            }
            let connection: PostgresConnection
            do {
                connection = try connect()
            } catch {
                request.fail(error)
                continue
            }
            connection.withCancellation(request.cancellation) { request.work(connection) }
            reset(connection)
        }
    }

    /// The open connection, or a new one if there is none, it broke, or it was opened before another
    /// connection of the pool broke: when one connection finds its server gone (restarted, failed over, or
    /// silent), the others were most likely opened to the same server, and each would fail its next request
    /// (or hang on it until the answer timeout) to find out. SQLAlchemy's pool does the same on a disconnect.
    private func connect() throws -> PostgresConnection {
        if let connection, !connection.isBroken, !queue.predatesLoss(openedAt) { return connection }
        connection = nil
        let opened = ContinuousClock.now
        let fresh = try PostgresConnection(
            configuration.connectionString, applicationName: configuration.applicationName,
            preparedStatements: configuration.preparedStatements, statementTimeout: configuration.statementTimeout)
        connection = fresh
        openedAt = opened
        return fresh
    }

    /// Leaves the connection as the next request expects it: no open transaction, no subscriptions; or
    /// closes it, when it broke, is still inside a command, may yet get a cancel request meant for its last
    /// statement, or moved more than ``PostgresConnection/largeBufferBytes`` in one message.
    private func reset(_ connection: PostgresConnection) {
        if connection.isBroken {
            self.connection = nil
            queue.connectionLost(at: .now)
            return
        }
        // Still inside a command (a refused COPY): every later request would fail "another command is already
        // in progress". Or holding buffers as large as its largest message.
        if connection.isBusy || connection.discard || connection.largestMessage > PostgresConnection.largeBufferBytes {
            self.connection = nil
            return
        }
        connection.rollbackQuietly()
        if connection.isListening {
            do { try connection.unlistenAll() } catch { self.connection = nil }
        }
    }
}
