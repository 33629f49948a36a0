import CLibPQ

/// The rows a statement returned, owning libpq's `PGresult`.
///
/// A `PGresult` is read-only once libpq hands it over and libpq documents it as safe to read from any
/// thread, so the result may cross from the pool's thread to the awaiting task; it is freed with the last
/// reference (`@unchecked Sendable` for that reason).
public final class PostgresResult: @unchecked Sendable, RandomAccessCollection {
    let handle: OpaquePointer
    /// Column names, in order.
    public let columns: [String]
    let columnTypes: [PostgresDataType]
    /// Rows returned (for `SELECT` and `… RETURNING`).
    public let count: Int

    init(handle: OpaquePointer) {
        self.handle = handle
        let columnCount = Int(PQnfields(handle))
        columns = (0..<columnCount).map { String(cString: PQfname(handle, Int32($0))) }
        columnTypes = (0..<columnCount).map { PostgresDataType(UInt32(PQftype(handle, Int32($0)))) }
        count = Int(PQntuples(handle))
    }

    deinit { PQclear(handle) }

    /// Rows touched by an `INSERT`, `UPDATE`, `DELETE`, `MERGE` or `COPY`, or returned by a `SELECT`.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    /// The command tag, e.g. `INSERT 0 1`.
    public var commandTag: String { String(cString: PQcmdStatus(handle)) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(result: self, index: position) }

    /// The index of a column by name.
    public func columnIndex(named name: String) throws -> Int {
        guard let index = columns.firstIndex(of: name) else {
            throw PostgresError.decoding("no column named \(name)")
        }
        return index
    }

    func bytes(row: Int, column: Int) -> ArraySlice<UInt8>? {
        let r = Int32(row)
        let c = Int32(column)
        if PQgetisnull(handle, r, c) == 1 { return nil }
        let length = Int(PQgetlength(handle, r, c))
        guard length > 0, let value = PQgetvalue(handle, r, c) else { return [] }
        return value.withMemoryRebound(to: UInt8.self, capacity: length) {
            ArraySlice(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}

/// One row of a ``PostgresResult``.
public struct PostgresRow: Sendable {
    let result: PostgresResult
    let index: Int

    /// The column names.
    public var columns: [String] { result.columns }

    /// Decodes the value in column `column` (0-based).
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        guard column >= 0, column < result.columns.count else {
            throw PostgresError.decoding("column \(column) is out of range")
        }
        do {
            return try T.decode(from: result.bytes(row: index, column: column), type: result.columnTypes[column])
        } catch var error as PostgresError {
            error.message = "column \(result.columns[column]): \(error.message)"
            throw error
        }
    }

    /// Decodes the value in the column named `name`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, named name: String) throws -> T {
        try decode(type, at: try result.columnIndex(named: name))
    }

    /// Decodes the leading columns as a tuple: `let (id, name) = try row.decode((Int, String).self)`.
    public func decode<each T: PostgresDecodable>(_ types: (repeat each T).Type) throws -> (repeat each T) {
        var column = 0
        func next<V: PostgresDecodable>(_: V.Type) throws -> V {
            defer { column += 1 }
            return try decode(V.self, at: column)
        }
        return (repeat try next((each T).self))
    }
}
