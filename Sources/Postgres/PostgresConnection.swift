import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One libpq connection, used from one thread at a time.
///
/// Every call blocks its thread until the server answers, so use a connection from a thread of your own;
/// ``PostgresClient`` runs connections on threads it owns and offers an async API over them. Statements are
/// sent with libpq's asynchronous calls and awaited with `poll(2)` on the connection's socket together with
/// a wake-up pipe, so that a ``PostgresCancellation`` can cancel a statement or a notification wait at once.
///
/// Values travel in PostgreSQL's binary format: parameters are always bound (`$1…`), never spliced into SQL.
public final class PostgresConnection {
    let handle: OpaquePointer
    /// Read end and write end of the wake-up pipe.
    let wakePipe: (read: Int32, write: Int32)
    var cancellation: PostgresCancellation?
    /// Whether this connection has issued LISTEN since it was last reset.
    public private(set) var isListening = false
    /// The names of the statements prepared on this connection, by SQL text and parameter types.
    var preparedStatements: [PreparedKey: String] = [:]
    var preparedCount = 0
    let usesPreparedStatements: Bool
    /// How long a statement may go unanswered before the connection is given up (see ``init``).
    let answerTimeout: Duration?
    /// Set when the server stopped answering: the connection counts as broken from then on.
    var abandoned = false
    /// Whether the pool must not hand the connection out again though it works: a cancel request meant for
    /// its last statement may still be on its way.
    var discard = false
    /// Sends cancel requests from threads of their own (``CancelRequestSender``).
    let cancelRequests = CancelRequestSender()
    /// The most bytes one statement (its values, and its text when not prepared), or one result row, have taken
    /// on this connection: libpq grows its send buffer to its largest statement and its receive buffer to its
    /// largest row, and never shrinks them. Rows are measured only in results over ``idleBufferBytes``; a
    /// cancelled statement, whose rows libpq dropped unseen, counts as that much.
    public internal(set) var largestMessage = 0

    /// ``PostgresClient`` closes a connection that moved more than this in one statement or row right after it,
    /// and one that moved more than ``idleBufferBytes`` once it has been idle for a while
    /// (``PostgresClient/Configuration/buffersKeptIdle``), rather than keep that much for the connection's
    /// lifetime: 40 deliveries of 8 MB left 300 MiB of such buffers in a `serve` of 16 connections. So a busy
    /// connection keeps at most this much in each buffer, an idle one at most ``idleBufferBytes``. A new
    /// connection took 6.1 ms here (`pgbench -C`, SCRAM over TCP), a few percent of moving this much into
    /// PostgreSQL; a batch of 128 deliveries of bodies up to about 60 KB stays below it.
    public static let largeBufferBytes = 8 << 20
    /// See ``largeBufferBytes``.
    public static let idleBufferBytes = 1 << 20
    /// How long a statement that was cancelled waits for its cancel request to reach the server before its
    /// connection is given up rather than reused (``CancelRequestSender/waitUntilSent(limit:)``).
    static let cancelArrival: Duration = .seconds(1)

    struct PreparedKey: Hashable {
        var sql: String
        var types: [Oid]
    }

    /// Connects with a libpq connection string (`host=… dbname=…`) or a `postgresql://` URI.
    ///
    /// - Throws: ``PostgresError`` of kind `invalidConnectionString`, `connectionRefused`,
    ///   `authenticationFailed` or `connectionFailed`.
    ///
    /// With `preparedStatements` off, ``PostgresQuery/prepared(_:)`` statements run unprepared.
    ///
    /// Every connection has TCP keepalives (a probe after 10 s of silence, every 5 s, 3 times) and a
    /// `tcp_user_timeout` of 20 s, unless the connection string sets its own: a connection whose peer vanished
    /// without a word breaks within half a minute instead of hanging for the kernel's two hours. With
    /// `statementTimeout`, the session's `statement_timeout` is set to it, and a statement that has had no
    /// answer 5 s after it (a server or network that stopped answering without closing the socket) gives the
    /// connection up: the statement fails with `connectionLost`, and the pool opens a new connection.
    public init(
        _ connectionString: String, applicationName: String = "hookline", preparedStatements: Bool = true,
        statementTimeout: Duration? = nil
    ) throws {
        try PostgresConnection.validate(connectionString)
        // Later keywords override earlier ones, and the expanded `dbname` stands where it is listed: so our
        // connect_timeout and keepalives are only defaults, and UTF-8 is always the client encoding.
        // A multi-host string that asks for a writable server tries the host that last accepted first.
        let preferred = PreferredHosts.overrides(for: connectionString)
        let keywords =
            [
                "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                "tcp_user_timeout", "application_name", "dbname", "client_encoding",
            ] + preferred.map(\.keyword)
        let values =
            ["10", "1", "10", "5", "3", "20000", applicationName, connectionString, "UTF8"] + preferred.map(\.value)
        let connection = withCStrings(keywords) { keys in
            withCStrings(values) { vals in PQconnectdbParams(keys, vals, 1) }
        }
        guard let connection else {
            throw PostgresError(kind: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let error = PostgresConnection.connectError(connection)
            PQfinish(connection)
            throw error
        }
        PreferredHosts.record(connection, for: connectionString)
        // libpq prints server notices (and a FATAL that ends the session) on stderr by default; they may
        // carry data, so they are dropped here: errors reach callers as PostgresError instead.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            PQfinish(connection)
            throw PostgresError(kind: .connectionFailed, message: "could not create a wake-up pipe")
        }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        handle = connection
        wakePipe = (fds[0], fds[1])
        usesPreparedStatements = preparedStatements
        answerTimeout = statementTimeout.map { $0 + .seconds(5) }
        if let statementTimeout {
            try query(
                PostgresQuery(
                    unsafeSQL: "SET statement_timeout = \(Int64(statementTimeout / .milliseconds(1)))", binds: []))
        }
    }

    deinit {
        PQfinish(handle)
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// Whether the connection has broken (server gone, backend terminated). A broken connection stays
    /// broken: make a new one.
    public var isBroken: Bool { abandoned || PQstatus(handle) != CONNECTION_OK }

    /// Whether a command is still under way: a statement that threw before its results were all read (a COPY
    /// refused), after which no other command can be sent on this connection.
    var isBusy: Bool { PQtransactionStatus(handle) == PQTRANS_ACTIVE }

    /// Whether a transaction is open (or failed and not yet rolled back).
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    // MARK: Statements

    /// Runs one statement with its bound parameters and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresResult {
        try checkNotCancelled()
        return try run(query)
    }

    /// Runs one statement, and gives the connection up (throwing `connectionLost`, leaving it broken) if the
    /// server sends nothing for `timeout`: how a long-lived connection checks that its server still answers.
    @discardableResult
    public func query(_ query: PostgresQuery, timeout: Duration) throws -> PostgresResult {
        try checkNotCancelled()
        return try run(query, timeout: timeout)
    }

    /// Runs SQL text that may hold several statements and no parameters (a migration file), in libpq's
    /// simple-query protocol. Results are discarded; the first error stops the script and is thrown.
    public func execute(script: String) throws {
        try checkNotCancelled()
        guard PQsendQuery(handle, script) == 1 else { throw sendError() }
        largestMessage = max(largestMessage, script.utf8.count)
        _ = try awaitResult()
    }

    /// Runs `body` in a transaction: `BEGIN`, then `COMMIT` when it returns, `ROLLBACK` when it throws.
    ///
    /// A `COMMIT` that the server turns into a rollback (the body swallowed an error) throws.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try query("BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }
        let commit: PostgresResult
        do {
            commit = try run("COMMIT", cancellable: false)
        } catch {
            rollbackQuietly()
            throw error
        }
        if commit.commandTag == "ROLLBACK" {
            throw PostgresError(
                kind: .query, code: .init("25P02"),
                message: "the transaction had failed, so COMMIT rolled it back")
        }
        return value
    }

    /// Ends any open transaction without throwing; used on the way out of an error.
    func rollbackQuietly() {
        guard !isBroken, isInTransaction else { return }
        _ = try? run("ROLLBACK", cancellable: false)
    }

    // MARK: LISTEN / NOTIFY

    /// Subscribes this connection to `channel`.
    public func listen(_ channel: String) throws {
        try query(PostgresQuery(unsafeSQL: "LISTEN " + PostgresQuery.quoteIdentifier(channel)))
        isListening = true
    }

    /// Unsubscribes from every channel.
    public func unlistenAll() throws {
        _ = try run("UNLISTEN *", cancellable: false)
        isListening = false
        // Drop notifications already received so that the next user of the connection does not see them.
        while let notify = PQnotifies(handle) { PQfreemem(notify) }
    }

    /// Sends a notification (delivered when the current transaction commits).
    public func notify(_ channel: String, payload: String = "") throws {
        try query("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Waits up to `timeout` for a notification on a channel this connection listens to.
    ///
    /// Sleeps in `poll(2)` on the connection's socket: no busy waiting. Returns `nil` at the timeout.
    /// - Throws: `connectionLost` if the connection breaks, `cancelled` if the caller is cancelled.
    public func waitForNotification(timeout: Duration) throws -> PostgresNotification? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            try checkNotCancelled()
            if let notification = nextNotification() { return notification }
            let remaining = clock.now.duration(to: deadline)
            if remaining <= .zero { return nil }
            let events = try wait(milliseconds: Self.milliseconds(remaining))
            if events.wake { drainWakePipe() }
            if events.socket { try consumeInput() }
        }
    }

    private func nextNotification() -> PostgresNotification? {
        guard let pointer = PQnotifies(handle) else { return nil }
        defer { PQfreemem(pointer) }
        let notify = pointer.pointee
        return PostgresNotification(
            channel: String(cString: notify.relname), payload: String(cString: notify.extra))
    }

    // MARK: Cancellation

    /// Runs `body` with `cancellation` able to interrupt it.
    func withCancellation<T>(_ cancellation: PostgresCancellation, _ body: () throws -> T) rethrows -> T {
        drainWakePipe()
        self.cancellation = cancellation
        cancellation.attach(wakeDescriptor: wakePipe.write)
        defer {
            cancellation.detach()
            self.cancellation = nil
        }
        return try body()
    }

    private func checkNotCancelled() throws {
        if cancellation?.isCancelled == true {
            throw PostgresError(kind: .cancelled, message: "the calling task was cancelled")
        }
    }
}

/// A notification received through LISTEN.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}

/// Calls `body` with a C array of C strings that lives for the call, terminated by a NULL entry.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicates = strings.map { strdup($0) }
    defer { duplicates.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = duplicates.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
