import Foundation

/// A `jsonb` value: JSON text, bound and decoded as `jsonb` (decodes from `json` too).
///
/// Keep payloads as raw JSON bytes with ``init(rawJSON:)`` or ``init(bytes:)``, or go through Codable with
/// ``init(encoding:encoder:)`` and ``decode(_:decoder:)``.
public struct PostgresJSON: Sendable, Hashable, PostgresEncodable, PostgresNonNullDecodable {
    /// The JSON text as UTF-8.
    public var bytes: [UInt8]

    /// Wraps JSON text as it is; the server validates it when it is bound.
    public init(rawJSON: String) { self.bytes = Array(rawJSON.utf8) }

    /// Wraps UTF-8 JSON bytes as they are; the server validates them when they are bound.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Encodes a value with `JSONEncoder`.
    public init<T: Encodable>(encoding value: T, encoder: JSONEncoder = JSONEncoder()) throws {
        self.bytes = Array(try encoder.encode(value))
    }

    /// Decodes the JSON with `JSONDecoder`.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(bytes))
    }

    public static var postgresType: PostgresDataType { .jsonb }

    /// jsonb's binary format is a version byte (1) and the JSON text.
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(1)
        buffer.append(contentsOf: bytes)
    }

    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> PostgresJSON {
        switch type {
        case .jsonb: return PostgresJSON(bytes: Array(try stripVersion(bytes)))
        case .json, .text, .varchar: return PostgresJSON(bytes: Array(bytes))
        default: throw mismatch(type)
        }
    }

    static func stripVersion(_ bytes: ArraySlice<UInt8>) throws -> ArraySlice<UInt8> {
        guard bytes.first == 1 else { throw PostgresError.decoding("unknown jsonb format version") }
        return bytes.dropFirst()
    }
}
