import Hookline

/// The bounds of an instance's MCP sessions, each a flag of `hookline serve`.
///
/// The SDK's transport keeps every message of a session for replay (`Last-Event-ID`) until the session ends,
/// so a session's memory is bounded by its byte budget (counted as its server sends, ``MeteredTransport``,
/// so by the budget and one answer), and the instance's by the number of sessions times that (with the
/// defaults, about 6 GiB at the very most; sessions of small calls hold kilobytes).
public struct MCPSessionLimits: Sendable, Hashable {
    /// Open sessions at most, across all servers; past it an `initialize` is refused with 503.
    public var maxSessions: Int
    /// Open sessions of one MCP server at most, so that one server's callers cannot take every slot.
    public var maxSessionsPerServer: Int
    /// Open sessions of one account's servers at most, so that one tenant cannot take every slot through
    /// many servers of its own.
    public var maxSessionsPerAccount = defaultMaxSessionsPerAccount
    /// A session unused this long is ended (its next request gets 404, and the client starts a new one).
    public var idleTimeout: Duration
    /// The bytes a session may exchange (request bodies and ``messageOverhead`` a request, counted as they come; answers as the server sends them); past
    /// it the session is ended the same way.
    public var maxBytesPerSession: Int
    /// The largest result a tool returns (its JSON); a larger one is refused with an `isError` result naming
    /// the job. The session's transport keeps every message it sends, so results count against its byte
    /// budget, twice: as structured content and as text.
    public var maxResultBytes = defaultMaxResultBytes
    /// Tool calls waiting for their jobs at once on this instance; past it a call answers at once with its
    /// job's id and state (0: every call does).
    public var maxWaitingCalls = JobWaiter.defaultMaxWaiters
    /// Event streams being written for one session at once (its GET stream, resumptions of it, and the
    /// answers to its requests still in flight); a new one past it ends the session's oldest. The SDK's
    /// transport forgets a stream that a resumption replaces without ending it, so only this bounds them.
    public var maxStreamsPerSession = defaultMaxStreamsPerSession
    /// Tool calls one session runs at once (the SDK runs each in a task of its own); one more is refused at
    /// once, so that the results being built for one session stay bounded. Below ``maxStreamsPerSession``, so
    /// that the calls' answers and the session's GET stream fit in its streams.
    public var maxCallsPerSession = defaultMaxCallsPerSession

    /// What each message counts besides its bytes: the replay store's bookkeeping.
    public static let messageOverhead = 512
    /// `maxResultBytes` unless told otherwise (`--mcp-max-result-bytes`).
    public static let defaultMaxResultBytes = 1 << 20
    /// `maxSessionsPerAccount` unless told otherwise (`--mcp-max-sessions-per-account`).
    public static let defaultMaxSessionsPerAccount = 200
    /// `maxCallsPerSession` unless told otherwise (`--mcp-max-calls-per-session`).
    public static let defaultMaxCallsPerSession = 8
    /// `maxStreamsPerSession` unless told otherwise (`--mcp-max-streams-per-session`).
    public static let defaultMaxStreamsPerSession = 16

    public init(
        maxSessions: Int = 1_000, maxSessionsPerServer: Int = 100, idleTimeout: Duration = .seconds(600),
        maxBytesPerSession: Int = 4 << 20
    ) {
        self.maxSessions = maxSessions
        self.maxSessionsPerServer = maxSessionsPerServer
        self.idleTimeout = idleTimeout
        self.maxBytesPerSession = maxBytesPerSession
    }
}
