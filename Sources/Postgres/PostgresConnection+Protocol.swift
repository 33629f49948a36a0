import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The protocol loop and its errors: sending a statement, waiting on the socket and the wake-up pipe, reading
/// results, cancelling, and turning libpq's failures into ``PostgresError``.
extension PostgresConnection {
    // MARK: The protocol loop

    /// Sends a statement and waits for its result. A `cancellable: false` statement (COMMIT, ROLLBACK,
    /// UNLISTEN: the clean-up after a cancel) is neither refused nor cancelled when the caller is cancelled.
    func run(_ query: PostgresQuery, cancellable: Bool = true, timeout: Duration? = nil) throws
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
        storage.reserveCapacity(query.binds.reduce(1) { $0 + ($1.bytes?.count ?? 0) })
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
            name = try preparedName(for: key!, cancellable: cancellable, timeout: timeout)
        }
        largestMessage = max(largestMessage, storage.count - 1 + (name == nil ? query.sql.utf8.count : 0))
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
            return try run(again, cancellable: cancellable, timeout: timeout)
        }
    }

    /// The bytes of `result`'s largest row (libpq's receive buffer holds one row's message at a time).
    static func largestRow(_ result: OpaquePointer) -> Int {
        let columns = PQnfields(result)
        var largest = 0
        for row in 0..<PQntuples(result) {
            var bytes = 0
            for column in 0..<columns { bytes += Int(PQgetlength(result, row, column)) }
            largest = max(largest, bytes)
        }
        return largest
    }

    /// The name under which `key` is prepared on this connection, preparing it first if it is not.
    func preparedName(for key: PreparedKey, cancellable: Bool, timeout: Duration?) throws -> String {
        if let name = preparedStatements[key] { return name }
        preparedCount += 1
        let name = "hookline_\(preparedCount)"
        guard PQsendPrepare(handle, name, key.sql, Int32(key.types.count), key.types) == 1 else {
            throw sendError()
        }
        _ = try awaitResult(cancellable: cancellable, timeout: timeout)
        preparedStatements[key] = name
        return name
    }

    /// `26000` (no such prepared statement) and `0A000` (what "cached plan must not change result type"
    /// is raised as).
    static func invalidatesPrepared(_ error: PostgresError) -> Bool {
        error.code?.rawValue == "26000" || error.code?.rawValue == "0A000"
    }

    /// Reads every result of the statement in flight; returns the last one or throws the first error.
    ///
    /// With an answer timeout (the connection's, or `timeout` for this statement), a server that sends
    /// nothing for that long is given up on: the connection is marked broken and `connectionLost` thrown.
    func awaitResult(cancellable: Bool = true, timeout: Duration? = nil) throws -> PostgresResult {
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
            if PQresultMemorySize(result) > Self.idleBufferBytes {
                largestMessage = max(largestMessage, Self.largestRow(result))
            }
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
        if cancelSentAt != nil {
            // The rows of a cancelled statement went through the receive buffer, and libpq dropped them unseen.
            largestMessage = max(largestMessage, Self.idleBufferBytes + 1)
            // A cancel request still on its way would cancel whatever the connection runs next, another
            // caller's statement: the connection waits for it (the server takes one within a millisecond
            // here), and is given up if it does not come.
            if !cancelRequests.waitUntilSent(limit: Self.cancelArrival) { discard = true }
        }
        if let firstError { throw firstError }
        if isBroken { throw connectionLost(message: lastErrorMessage) }
        guard let last else { throw PostgresError(kind: .query, message: "the server returned no result") }
        return last
    }

    func sendCancelRequest() {
        cancelRequests.send(for: handle)
    }

    func consumeInput() throws {
        if PQconsumeInput(handle) == 0 || isBroken { throw connectionLost(message: lastErrorMessage) }
    }

    /// Sleeps until the socket is readable, the wake-up pipe is written, or the timeout passes (-1: none).
    func wait(milliseconds: Int32) throws -> (socket: Bool, wake: Bool) {
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

    func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakePipe.read, &buffer, buffer.count) > 0 {}
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1
        return Int32(clamping: total)
    }

    // MARK: Errors

    var lastErrorMessage: String {
        String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace()
    }

    func sendError() -> PostgresError {
        isBroken
            ? connectionLost(message: lastErrorMessage)
            : PostgresError(kind: .query, message: lastErrorMessage)
    }

    func connectionLost(message: String) -> PostgresError {
        PostgresError(kind: .connectionLost, message: message.isEmpty ? "the connection was lost" : message)
    }

    func resultError(_ result: OpaquePointer) -> PostgresError {
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

    /// Checks that libpq can parse `connectionString` (and its ports), without connecting.
    ///
    /// - Throws: ``PostgresError`` of kind `invalidConnectionString`.
    public static func validate(_ connectionString: String) throws {
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

    static func connectError(_ connection: OpaquePointer) -> PostgresError {
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
