import Foundation

// Every Hookline output (CLI `--json`, the admin API, logs) writes UUIDs in the lowercase form that PostgreSQL
// prints and RFC 9562 recommends; Foundation's `UUID` encodes itself in uppercase. These overloads are more
// specific than the generic `encode(_:forKey:)`, so the synthesized `Encodable` conformances of the types in
// this module (and of any module that imports it) pick them for their `UUID` properties.

extension KeyedEncodingContainer {
    /// Encodes `value` as its lowercase text form.
    public mutating func encode(_ value: UUID, forKey key: Key) throws {
        try encode(value.lowercased, forKey: key)
    }

    /// Encodes `value`, when present, as its lowercase text form.
    public mutating func encodeIfPresent(_ value: UUID?, forKey key: Key) throws {
        try encodeIfPresent(value?.lowercased, forKey: key)
    }
}

extension UUID {
    /// The lowercase text form that PostgreSQL prints, used in every Hookline output.
    public var lowercased: String { uuidString.lowercased() }
}
