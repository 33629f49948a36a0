/// An error from PostgreSQL or from talking to it.
///
/// Decisions are made on ``kind`` and ``code`` (the SQLSTATE), never on message text. ``description`` names
/// only the kind and the SQLSTATE so that the data in a server message (values, keys, secrets) never reaches
/// a log by accident; ``message``, ``detail`` and ``hint`` carry the server's words for callers that choose to
/// show them, and `String(reflecting:)` includes them.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, in the terms a caller decides on.
    public enum Kind: String, Sendable {
        /// The connection string or URL could not be parsed.
        case invalidConnectionString
        /// The server refused or could not be reached (nothing listening, DNS, socket path).
        case connectionRefused
        /// The server was reached but rejected our credentials or role.
        case authenticationFailed
        /// Connecting failed for another reason (startup error, bad database name, too many clients).
        case connectionFailed
        /// The connection broke while in use: the server went away, or the backend was terminated.
        case connectionLost
        /// The server rejected a statement; ``PostgresError/code`` holds the SQLSTATE.
        case query
        /// A value could not be decoded as the requested Swift type.
        case decoding
        /// The calling task was cancelled; the running statement was cancelled with it.
        case cancelled
        /// The pool was closed.
        case poolClosed
    }

    /// A SQLSTATE code (five characters), e.g. `23505`.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let uniqueViolation = Code("23505")
        public static let foreignKeyViolation = Code("23503")
        public static let queryCanceled = Code("57014")
        public static let adminShutdown = Code("57P01")
        public static let crashShutdown = Code("57P02")
        public static let cannotConnectNow = Code("57P03")
        public static let syntaxError = Code("42601")
        public static let undefinedTable = Code("42P01")

        /// Class 08 (connection exception) and the shutdown codes of class 57P.
        public var isConnectionFailure: Bool {
            rawValue.hasPrefix("08") || self == .adminShutdown || self == .crashShutdown || self == .cannotConnectNow
        }
    }

    /// Whether the failure was the connection's, not the statement's: the server could not be reached, the
    /// connection broke or gave no answer in time, or the pool had no connection free in time. The same
    /// statement may succeed later, as after a failover or a restart.
    public var isUnreachable: Bool {
        [.connectionRefused, .connectionFailed, .connectionLost].contains(kind) || code?.isConnectionFailure == true
    }

    public var kind: Kind
    /// The SQLSTATE, when the server sent one.
    public var code: Code?
    /// The server's severity (`ERROR`, `FATAL`, `PANIC`), when it sent one.
    public var severity: String?
    /// The primary message: the server's, or ours for client-side failures.
    public var message: String
    /// The server's DETAIL field. May contain row values: do not log it blindly.
    public var detail: String?
    /// The server's HINT field.
    public var hint: String?

    public init(
        kind: Kind, code: Code? = nil, severity: String? = nil, message: String, detail: String? = nil,
        hint: String? = nil
    ) {
        self.kind = kind
        self.code = code
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// A terse description with no server text, safe to log.
    public var description: String {
        if let code { return "PostgresError(\(kind.rawValue), sqlstate \(code))" }
        return "PostgresError(\(kind.rawValue))"
    }

    /// Everything, for debugging: may contain data from the server message.
    public var debugDescription: String {
        var text = "\(description): \(message)"
        if let detail { text += " DETAIL: \(detail)" }
        if let hint { text += " HINT: \(hint)" }
        return text
    }

    /// A decoding error with `message`.
    public static func decoding(_ message: String) -> PostgresError {
        PostgresError(kind: .decoding, message: message)
    }
}
