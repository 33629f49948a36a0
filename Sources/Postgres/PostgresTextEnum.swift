/// An enumeration kept in a `text` column as its raw value: it binds as `text`, and a value that names no
/// case decodes to a ``PostgresError`` of kind `decoding` rather than to a string nobody checks.
public protocol PostgresTextEnum: RawRepresentable, PostgresEncodable, PostgresNonNullDecodable, Hashable
where RawValue == String {}

extension PostgresTextEnum {
    public static var postgresType: PostgresDataType { .text }

    public func encode(into buffer: inout [UInt8]) { rawValue.encode(into: &buffer) }

    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Self {
        let text = try String.decodeValue(from: bytes, type: type)
        guard let value = Self(rawValue: text) else {
            throw PostgresError.decoding("\(text.debugDescription) is not a \(Self.self)")
        }
        return value
    }
}
