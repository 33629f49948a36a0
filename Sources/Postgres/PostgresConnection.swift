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
    private let wakePipe: (read: Int32, write: Int32)
    private var cancellation: PostgresCancellation?
    /// Whether this connection has issued LISTEN since it was last reset.
    public private(set) var isListening = false
    /// The names of the statements prepared on this connection, by SQL text and parameter types.
    private var preparedStatements: [PreparedKey: String] = [:]
    private var preparedCount = 0
    private let usesPreparedStatements: Bool
    /// How long a statement may go unanswered before the connection is given up (see ``init``).
    private let answerTimeout: Duration?
    /// Set when the server stopped answering: the connection counts as broken from then on.
    private var abandoned = false

    private struct PreparedKey: Hashable {
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
        let keywords = [
            "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
            "tcp_user_timeout", "application_name", "dbname", "client_encoding",
        ]
        let values = ["10", "1", "10", "5", "3", "20000", applicationName, connectionString, "UTF8"]
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
                    unsafeSQL: "SET statement_timeout = \(statementTimeout / .milliseconds(1))", binds: []))
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

    /// Whether a transaction is open (or failed and not yet rolled back).
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// The server process id of this connection's backend (for `pg_terminate_backend`, `pg_stat_activity`).
    public var backendPID: Int32 { PQbackendPID(handle) }

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
            channel: String(cString: notify.relname), payload: String(cString: notify.extra),
            senderPID: notify.be_pid)
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

    // MARK: The protocol loop

    /// Sends a statement and waits for its result. A `cancellable: false` statement (COMMIT, ROLLBACK,
    /// UNLISTEN: the clean-up after a cancel) is neither refused nor cancelled when the caller is cancelled.
    private func run(_ query: PostgresQuery, cancellable: Bool = true, timeout: Duration? = nil) throws
        -> PostgresResult
    {
        let count = query.binds.count
        var types: [Oid] = []
        var lengths: [Int32] = []
        var offsets: [Int] = []
        var storage: [UInt8] = []
        types.reserveCapacity(count)
        lengths.reserveCapacity(count)
        offsets.reserveCapacity(count)
        for bind in query.binds {
            types.append(Oid(bind.type.rawValue))
            offsets.append(storage.count)
            if let bytes = bind.bytes {
                lengths.append(Int32(bytes.count))
                storage.append(contentsOf: bytes)
            } else {
                lengths.append(-1)
            }
        }
        storage.append(0)  // never empty, so that every non-NULL value has a real address
        let formats = [Int32](repeating: 1, count: count)
        var key: PreparedKey?
        var name: String?
        if query.isPrepared, usesPreparedStatements {
            key = PreparedKey(sql: query.sql, types: types)
            name = try preparedName(for: key!, cancellable: cancellable)
        }
        let sent = storage.withUnsafeBytes { raw -> Int32 in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = (0..<count).map { lengths[$0] < 0 ? nil : base + offsets[$0] }
            if let name {
                return PQsendQueryPrepared(handle, name, Int32(count), values, lengths, formats, 1)
            }
            return PQsendQueryParams(handle, query.sql, Int32(count), types, values, lengths, formats, 1)
        }
        guard sent == 1 else { throw sendError() }
        do {
            return try awaitResult(cancellable: cancellable, timeout: timeout)
        } catch let error as PostgresError where key != nil && Self.invalidatesPrepared(error) {
            // The server no longer has the statement (DISCARD ALL by a pooler) or its plan no longer fits
            // (a migration changed a table's columns): both are raised before anything runs, so prepare
            // again and run once more.
            // Inside a transaction the error has aborted it, so it is the caller's to retry.
            preparedStatements[key!] = nil
            guard !isInTransaction else { throw error }
            _ = try? run("DEALLOCATE \(unsafe: name!)", cancellable: false)
            var again = query
            again.isPrepared = false
            return try run(again, cancellable: cancellable)
        }
    }

    /// The name under which `key` is prepared on this connection, preparing it first if it is not.
    private func preparedName(for key: PreparedKey, cancellable: Bool) throws -> String {
        if let name = preparedStatements[key] { return name }
        preparedCount += 1
        let name = "hookline_\(preparedCount)"
        guard PQsendPrepare(handle, name, key.sql, Int32(key.types.count), key.types) == 1 else {
            throw sendError()
        }
        _ = try awaitResult(cancellable: cancellable)
        preparedStatements[key] = name
        return name
    }

    /// `26000` (no such prepared statement) and `0A000` (what "cached plan must not change result type"
    /// is raised as).
    private static func invalidatesPrepared(_ error: PostgresError) -> Bool {
        error.code?.rawValue == "26000" || error.code?.rawValue == "0A000"
    }

    /// Reads every result of the statement in flight; returns the last one or throws the first error.
    ///
    /// With an answer timeout (the connection's, or `timeout` for this statement), a server that sends
    /// nothing for that long is given up on: the connection is marked broken and `connectionLost` thrown.
    private func awaitResult(cancellable: Bool = true, timeout: Duration? = nil) throws -> PostgresResult {
        var cancelSentAt: ContinuousClock.Instant?
        var firstError: PostgresError?
        var last: PostgresResult?
        let limit = timeout ?? answerTimeout
        let deadline = limit.map { ContinuousClock.now + $0 }
        while true {
            while PQisBusy(handle) == 1 {
                var milliseconds: Int32 = cancelSentAt == nil ? -1 : 250
                if let deadline {
                    let remaining = Self.milliseconds(max(.zero, ContinuousClock.now.duration(to: deadline)))
                    milliseconds = milliseconds < 0 ? remaining : min(milliseconds, remaining)
                }
                let events = try wait(milliseconds: milliseconds)
                if let deadline, !events.socket, !events.wake, ContinuousClock.now >= deadline {
                    abandoned = true
                    throw connectionLost(message: "the server did not answer within \(limit!)")
                }
                if events.wake { drainWakePipe() }
                if cancellable, cancellation?.isCancelled == true,
                    cancelSentAt.map({ $0.duration(to: .now) >= .milliseconds(250) }) ?? true
                {
                    sendCancelRequest()
                    cancelSentAt = .now
                }
                if events.socket { try consumeInput() }
            }
            guard let result = PQgetResult(handle) else { break }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                last = PostgresResult(handle: result)
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                PQclear(result)
                throw PostgresError(kind: .query, message: "COPY is not supported on this connection")
            default:
                if firstError == nil { firstError = resultError(result) }
                PQclear(result)
            }
        }
        if let firstError { throw firstError }
        if isBroken { throw connectionLost(message: lastErrorMessage) }
        guard let last else { throw PostgresError(kind: .query, message: "the server returned no result") }
        return last
    }

    private func sendCancelRequest() {
        guard let cancel = PQgetCancel(handle) else { return }
        defer { PQfreeCancel(cancel) }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, Int32(buffer.count))
    }

    private func consumeInput() throws {
        if PQconsumeInput(handle) == 0 || isBroken { throw connectionLost(message: lastErrorMessage) }
    }

    /// Sleeps until the socket is readable, the wake-up pipe is written, or the timeout passes (-1: none).
    private func wait(milliseconds: Int32) throws -> (socket: Bool, wake: Bool) {
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw connectionLost(message: "the connection has no socket") }
        var fds = [
            pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&fds, 2, milliseconds)
            if ready >= 0 { break }
            if errno != EINTR { throw connectionLost(message: "poll failed with errno \(errno)") }
        }
        return (fds[0].revents != 0, fds[1].revents != 0)
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakePipe.read, &buffer, buffer.count) > 0 {}
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1
        return Int32(clamping: total)
    }

    // MARK: Errors

    private var lastErrorMessage: String {
        String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace()
    }

    private func sendError() -> PostgresError {
        isBroken
            ? connectionLost(message: lastErrorMessage)
            : PostgresError(kind: .query, message: lastErrorMessage)
    }

    private func connectionLost(message: String) -> PostgresError {
        PostgresError(kind: .connectionLost, message: message.isEmpty ? "the connection was lost" : message)
    }

    private func resultError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let message = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingWhitespace()
        var error = PostgresError(
            kind: .query, code: field("C").map(PostgresError.Code.init(rawValue:)),
            severity: field("V") ?? field("S"), message: message, detail: field("D"), hint: field("H"))
        if isBroken || error.code?.isConnectionFailure == true {
            error.kind = .connectionLost
        } else if error.code == .queryCanceled, cancellation?.isCancelled == true {
            error.kind = .cancelled
        }
        return error
    }

    private static func validate(_ connectionString: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &message) else {
            let text = message.map { String(cString: $0).trimmingTrailingWhitespace() } ?? "unparseable"
            if let message { PQfreemem(message) }
            throw PostgresError(kind: .invalidConnectionString, message: "invalid connection string: \(text)")
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "port", let value = option.pointee.val {
                let port = String(cString: value)
                let valid = port.split(separator: ",", omittingEmptySubsequences: false).allSatisfy {
                    $0.isEmpty || (UInt16($0) != nil)
                }
                if !valid {
                    throw PostgresError(
                        kind: .invalidConnectionString, message: "invalid connection string: bad port")
                }
            }
            option += 1
        }
    }

    private static func connectError(_ connection: OpaquePointer) -> PostgresError {
        let message = String(cString: PQerrorMessage(connection)).trimmingTrailingWhitespace()
        let lowered = message.lowercased()
        let kind: PostgresError.Kind
        if PQconnectionNeedsPassword(connection) == 1 || lowered.contains("authentication failed")
            || lowered.contains("pg_hba.conf") || (lowered.contains("role \"") && lowered.contains("does not exist"))
        {
            kind = .authenticationFailed
        } else if lowered.contains("connection refused") || lowered.contains("no such file or directory")
            || lowered.contains("could not translate host name") || lowered.contains("timeout expired")
            || lowered.contains("network is unreachable") || lowered.contains("could not connect")
        {
            kind = .connectionRefused
        } else {
            kind = .connectionFailed
        }
        return PostgresError(kind: kind, message: message)
    }
}

/// A notification received through LISTEN.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32
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
