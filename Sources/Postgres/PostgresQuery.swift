/// One bound parameter: its type and binary value, `nil` for NULL.
public struct PostgresBind: Sendable, Hashable {
    public var type: PostgresDataType
    public var bytes: [UInt8]?

    public init(type: PostgresDataType, bytes: [UInt8]?) {
        self.type = type
        self.bytes = bytes
    }

    /// Encodes a Swift value.
    public init<Value: PostgresEncodable>(_ value: Value) {
        type = Value.postgresType
        if value.isPostgresNull {
            bytes = nil
        } else {
            var buffer: [UInt8] = []
            value.encode(into: &buffer)
            bytes = buffer
        }
    }
}

/// A SQL statement with its parameters.
///
/// Written as a string literal, every interpolated value becomes a bind parameter (`$1`, `$2`, …), so values
/// never reach the SQL text and injection is impossible by construction:
///
///     let query: PostgresQuery = "SELECT name FROM hookline.accounts WHERE id = \(accountID)"
///
/// SQL assembled at run time must go through the explicitly named ``init(unsafeSQL:binds:)``.
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text, with `$n` placeholders.
    public var sql: String
    /// The parameters, `$1` first.
    public var binds: [PostgresBind]
    /// Whether the statement is prepared on each connection the first time it runs there and executed by
    /// name after that, so that the server parses and plans it once per connection instead of every time.
    /// For the hot path's fixed statements; see ``prepared(_:)``.
    public var isPrepared = false

    /// SQL text from outside a literal, with explicit binds. The caller vouches that `sql` holds no values.
    public init(unsafeSQL sql: String, binds: [PostgresBind] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    /// This statement, prepared once per connection (a server-side named statement, planned with
    /// `plan_cache_mode` `auto`) and executed by name after that: for statements that run often with the
    /// same SQL text, where parsing and planning would cost more than running. A connection keeps each
    /// distinct SQL text it prepared for its lifetime, so the text must come from a fixed set.
    ///
    ///     let rows = try await database.query(.prepared("SELECT … WHERE id = \(id)"))
    public static func prepared(_ query: PostgresQuery) -> PostgresQuery {
        var query = query
        query.isPrepared = true
        return query
    }

    /// The SQL text only: parameters are never printed.
    public var description: String { sql }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [PostgresBind] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        /// Binds a value as the next parameter.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            binds.append(PostgresBind(value))
            sql += "$\(binds.count)"
        }

        /// Binds an optional value as the next parameter: `nil` binds SQL NULL of the wrapped type.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            binds.append(PostgresBind(value))
            sql += "$\(binds.count)"
        }

        /// Splices SQL text as it is: for fixed fragments such as a shared column list, never for values.
        public mutating func appendInterpolation(unsafe sql: String) {
            self.sql += sql
        }
    }

    /// Quotes an identifier as PostgreSQL does: in double quotes, with inner double quotes doubled.
    public static func quoteIdentifier(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
