/// A Swift value that can be sent to PostgreSQL as a bind parameter, in the binary format.
///
/// Conforming types say which PostgreSQL type they bind as and write their binary representation. `nil`
/// optionals bind as SQL NULL.
public protocol PostgresEncodable: Sendable {
    /// The PostgreSQL type this value is sent as.
    static var postgresType: PostgresDataType { get }
    /// Whether this value is SQL NULL. Only `Optional.none` is.
    var isPostgresNull: Bool { get }
    /// Appends the binary wire representation (never called for NULL).
    func encode(into buffer: inout [UInt8])
}

extension PostgresEncodable {
    public var isPostgresNull: Bool { false }
}

/// A Swift type that can be decoded from a PostgreSQL value in the binary format.
///
/// `bytes` is `nil` for SQL NULL; non-optional types then throw a ``PostgresError`` of kind `decoding`.
public protocol PostgresDecodable: Sendable {
    /// Decodes a value of `type` from its binary representation, `nil` meaning NULL.
    static func decode(from bytes: ArraySlice<UInt8>?, type: PostgresDataType) throws -> Self
}

/// A decodable type that has no NULL of its own: NULL is a decoding error unless wrapped in `Optional`.
public protocol PostgresNonNullDecodable: PostgresDecodable {
    /// Decodes a non-NULL value of `type`.
    static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Self
}

extension PostgresNonNullDecodable {
    public static func decode(from bytes: ArraySlice<UInt8>?, type: PostgresDataType) throws -> Self {
        guard let bytes else {
            throw PostgresError.decoding("NULL cannot be decoded as \(Self.self); decode an Optional")
        }
        return try decodeValue(from: bytes, type: type)
    }

    static func mismatch(_ type: PostgresDataType) -> PostgresError {
        .decoding("\(type) cannot be decoded as \(Self.self)")
    }
}

/// Both directions.
public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresDataType { Wrapped.postgresType }
    public var isPostgresNull: Bool { self == nil }
    public func encode(into buffer: inout [UInt8]) { self?.encode(into: &buffer) }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(from bytes: ArraySlice<UInt8>?, type: PostgresDataType) throws -> Self {
        guard let bytes else { return nil }
        return try Wrapped.decode(from: bytes, type: type)
    }
}

// MARK: - Big-endian helpers

extension Array where Element == UInt8 {
    @inlinable mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

/// Reads big-endian integers and byte runs off the front of a slice, as the binary protocol lays them out.
struct PostgresByteReader {
    private(set) var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count >= size else { throw PostgresError.decoding("value is truncated") }
        var value: T = 0
        for byte in bytes.prefix(size) { value = (value << 8) | T(truncatingIfNeeded: byte) }
        bytes = bytes.dropFirst(size)
        return value
    }

    mutating func read(count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count >= count else { throw PostgresError.decoding("value is truncated") }
        let run = bytes.prefix(count)
        bytes = bytes.dropFirst(count)
        return run
    }
}

/// Reads a fixed-width big-endian integer that must fill `bytes` exactly.
func decodeExactInteger<T: FixedWidthInteger>(_: T.Type, _ bytes: ArraySlice<UInt8>) throws -> T {
    guard bytes.count == MemoryLayout<T>.size else {
        throw PostgresError.decoding("expected \(MemoryLayout<T>.size) bytes, got \(bytes.count)")
    }
    var reader = PostgresByteReader(bytes)
    return try reader.read(T.self)
}
