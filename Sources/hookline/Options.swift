import ArgumentParser
import Foundation
import Hookline
import Logging
import Postgres

/// `--database-url`, shared by every command that talks to PostgreSQL.
struct DatabaseOptions: ParsableArguments {
    /// What `--pool-size` may be, for `serve` and `work` alike: each slot is a connection.
    static let poolSizes = 1...1_000
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL connection URL or libpq connection string (env: DATABASE_URL).", valueName: "url"))
    var explicitURL: String?

    @Flag(
        name: .customLong("no-prepared-statements"),
        help: ArgumentHelp(
            "Never prepare statements on the server: for transaction-mode poolers that do not track them "
                + "(env: HOOKLINE_PREPARED_STATEMENTS=off)."))
    var noPreparedStatements = false

    @Option(
        name: .customLong("listen-database-url"),
        help: ArgumentHelp(
            "Where LISTEN connects, when the pools go through a transaction-mode pooler that cannot hold it "
                + "(PgBouncer): a direct URL to the primary (env: HOOKLINE_LISTEN_DATABASE_URL; default: the "
                + "database URL).", valueName: "url"))
    var explicitListenURL: String?

    @Option(
        help: .setting(
            "Cancel requests to PostgreSQL on their way at once; each waits on a thread for the server, for as long as a silent one stays silent",
            env: "HOOKLINE_MAX_CANCEL_REQUESTS", unit: "n"))
    var maxCancelRequests: Int?

    /// `--max-cancel-requests`, or its environment variable, if either is given.
    private var cancelRequestCap: Int? {
        get throws { try maxCancelRequests ?? Env.integer("HOOKLINE_MAX_CANCEL_REQUESTS") }
    }

    /// The URL for LISTEN, if it is not the database URL.
    var listenURL: String? { explicitListenURL ?? Env.string("HOOKLINE_LISTEN_DATABASE_URL") }

    /// Whether the hot path's statements are prepared on the server (on unless turned off).
    var preparedStatements: Bool {
        get throws { try !noPreparedStatements && (Env.onOff("HOOKLINE_PREPARED_STATEMENTS") ?? true) }
    }

    /// The URL from the flag, else from `$DATABASE_URL`.
    var url: String {
        get throws {
            if let explicitURL { return explicitURL }
            if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty { return url }
            throw ValidationError("no database: pass --database-url or set DATABASE_URL (scripts/pg url prints one)")
        }
    }

    func validate() throws {
        _ = try url
        if let most = try cancelRequestCap { try ValidationError.check(most, in: 1...1_024, "--max-cancel-requests") }
        if let listenURL {
            do { try PostgresConnection.validate(listenURL) } catch {
                throw ValidationError("--listen-database-url: \(error)")
            }
        }
    }

    /// Runs `body` with a small pool for one command, reporting any error as a one-line ``CommandFailure``,
    /// and closes the pool before the process exits.
    func withClient(maxConnections: Int = 2, _ body: (PostgresClient) async throws -> Void) async throws {
        do {
            let client = try client(maxConnections: maxConnections)
            defer { client.closeBeforeExit() }
            try await body(client)
        } catch {
            throw CommandFailure.wrapping(error)
        }
    }

    /// A pool on the database.
    func client(
        maxConnections: Int, applicationName: String = "hookline-cli", statementTimeout: Duration? = nil
    ) throws -> PostgresClient {
        if let most = try cancelRequestCap {
            CancelRequestLimit.process.most = most
        }
        return PostgresClient(
            configuration: .init(
                connectionString: try url, maxConnections: maxConnections, applicationName: applicationName,
                preparedStatements: try preparedStatements, statementTimeout: statementTimeout,
                listenConnectionString: listenURL))
    }
}

/// `--log-level`, shared by the long-running commands.
struct LogOptions: ParsableArguments {
    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("trace, debug, info, notice, warning, error (env: HOOKLINE_LOG_LEVEL).", valueName: "level"))
    var explicitLevel: String?

    var level: String? { explicitLevel ?? Env.string("HOOKLINE_LOG_LEVEL") }

    func validate() throws {
        if let level, Logger.Level(rawValue: level) == nil { throw ValidationError("unknown log level \(level)") }
    }

    /// A logger at the chosen level (`info` by default).
    func logger(_ label: String) -> Logger {
        HooklineLogHandler.installed
        var logger = Logger(label: label)
        logger.logLevel = level.flatMap { Logger.Level(rawValue: $0) } ?? .info
        return logger
    }
}

/// `--json`, shared by every command that prints a result.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// Prints `value` as one line of JSON with sorted keys.
    func printJSON<T: Encodable>(_ value: T) throws {
        print(String(decoding: try JSONEncoder.hookline().encode(value), as: UTF8.self))
    }

    /// Prints a `JSONSerialization` object as one line of JSON with sorted keys.
    func printJSONObject(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// A failure reported as one line on stderr with a non-zero exit status.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String

    /// Turns library errors into a one-line message a person can act on. Server messages are shown, since
    /// the operator running the command is the one who needs them.
    static func wrapping(_ error: any Error) -> any Error {
        switch error {
        case let error as PostgresError:
            var text: String
            switch error.kind {
            case .invalidConnectionString: text = "invalid database URL"
            case .connectionRefused: text = "cannot reach the database"
            case .authenticationFailed: text = "the database refused the credentials"
            case .connectionFailed: text = "cannot connect to the database"
            case .connectionLost: text = "lost the connection to the database"
            case .query: text = "the database rejected a statement"
            case .decoding: text = "unexpected data from the database"
            case .cancelled: text = "cancelled"
            case .poolClosed: text = "the connection pool was closed"
            }
            let message = error.message.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if !message.isEmpty { text += ": \(message)" }
            if let code = error.code { text += " (SQLSTATE \(code))" }
            return CommandFailure(description: text)
        case let error as HooklineError:
            return CommandFailure(description: error.description)
        case let error as CycleProblems:
            return CommandFailure(description: error.description)
        default:
            return error
        }
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, reporting any error as a one-line ``CommandFailure``.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            throw CommandFailure.wrapping(error)
        }
    }
}

extension PostgresClient {
    /// Closes the pool and waits (5 s at most) for its connections to close: the process exits next, and
    /// exiting while libpq still closes a connection on another thread can crash in OpenSSL's cleanup.
    func closeBeforeExit() { close(waitingUpTo: .seconds(5)) }
}
