import Foundation

// Binary wire formats of the PostgreSQL types Hookline uses. Reference: each type's `*_send` / `*_recv`
// function in the PostgreSQL sources (src/backend/utils/adt).

extension Int: PostgresEncodable, PostgresNonNullDecodable {
    public static var postgresType: PostgresDataType { .int8 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(Int64(self)) }
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Int {
        Int(try Int64.decodeValue(from: bytes, type: type))
    }
}

extension Int64: PostgresEncodable, PostgresNonNullDecodable {
    public static var postgresType: PostgresDataType { .int8 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Int64 {
        switch type {
        case .int8: return try decodeExactInteger(Int64.self, bytes)
        case .int4: return Int64(try decodeExactInteger(Int32.self, bytes))
        case .int2: return Int64(try decodeExactInteger(Int16.self, bytes))
        case .oid: return Int64(try decodeExactInteger(UInt32.self, bytes))
        case .numeric:
            guard let value = Int64(try PostgresNumeric.string(from: bytes)) else {
                throw PostgresError.decoding("numeric value is not an integer that fits Int64")
            }
            return value
        default: throw mismatch(type)
        }
    }
}

extension Int32: PostgresEncodable, PostgresNonNullDecodable {
    public static var postgresType: PostgresDataType { .int4 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Int32 {
        try narrowed(Int64.decodeValue(from: bytes, type: type))
    }
}

extension Int16: PostgresEncodable, PostgresNonNullDecodable {
    public static var postgresType: PostgresDataType { .int2 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Int16 {
        try narrowed(Int64.decodeValue(from: bytes, type: type))
    }
}

extension Bool: PostgresEncodable, PostgresNonNullDecodable {
    public static var postgresType: PostgresDataType { .bool }
    public func encode(into buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Bool {
        guard type == .bool else { throw mismatch(type) }
        guard bytes.count == 1, let byte = bytes.first else { throw PostgresError.decoding("bool is not 1 byte") }
        return byte != 0
    }
}

extension Double: PostgresEncodable, PostgresNonNullDecodable {
    public static var postgresType: PostgresDataType { .float8 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Double {
        switch type {
        case .float8: return Double(bitPattern: try decodeExactInteger(UInt64.self, bytes))
        case .float4: return Double(Float(bitPattern: try decodeExactInteger(UInt32.self, bytes)))
        case .int2, .int4, .int8: return Double(try Int64.decodeValue(from: bytes, type: type))
        case .numeric:
            guard let value = Double(try PostgresNumeric.string(from: bytes)) else {
                throw PostgresError.decoding("numeric value is not a number")
            }
            return value
        default: throw mismatch(type)
        }
    }
}

extension String: PostgresEncodable, PostgresNonNullDecodable {
    public static var postgresType: PostgresDataType { .text }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> String {
        switch type {
        case _ where type.isTextual: return String(decoding: bytes, as: UTF8.self)
        case .jsonb: return String(decoding: try PostgresJSON.stripVersion(bytes), as: UTF8.self)
        case .uuid: return try UUID.decodeValue(from: bytes, type: type).uuidString.lowercased()
        case .numeric: return try PostgresNumeric.string(from: bytes)
        default: throw mismatch(type)
        }
    }
}

/// `bytea`: the bytes exactly, zero bytes included.
extension Data: PostgresEncodable, PostgresNonNullDecodable {
    public static var postgresType: PostgresDataType { .bytea }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Data {
        guard type == .bytea else { throw mismatch(type) }
        return Data(bytes)
    }
}

extension UUID: PostgresEncodable, PostgresNonNullDecodable {
    public static var postgresType: PostgresDataType { .uuid }
    public func encode(into buffer: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
    }
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> UUID {
        switch type {
        case .uuid:
            guard bytes.count == 16 else { throw PostgresError.decoding("uuid is not 16 bytes") }
            var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
            return UUID(uuid: raw)
        case _ where type.isTextual:
            guard let value = UUID(uuidString: String(decoding: bytes, as: UTF8.self)) else {
                throw PostgresError.decoding("text is not a UUID")
            }
            return value
        default: throw mismatch(type)
        }
    }
}

/// `timestamptz`: microseconds since 2000-01-01 00:00:00 UTC. `infinity` decodes as `Date.distantFuture`.
extension Date: PostgresEncodable, PostgresNonNullDecodable {
    /// Seconds from the PostgreSQL epoch (2000-01-01) to Foundation's reference date (2001-01-01).
    static let postgresEpochToReference: Int64 = 31_622_400
    static let microsecondsPerDay: Int64 = 86_400_000_000

    public static var postgresType: PostgresDataType { .timestamptz }

    public func encode(into buffer: inout [UInt8]) {
        let seconds = timeIntervalSinceReferenceDate
        let micros: Int64
        if seconds >= Date.distantFuture.timeIntervalSinceReferenceDate {
            micros = .max
        } else if seconds <= Date.distantPast.timeIntervalSinceReferenceDate {
            micros = .min
        } else {
            micros = Int64((seconds * 1_000_000).rounded()) + Date.postgresEpochToReference * 1_000_000
        }
        buffer.appendBigEndian(micros)
    }

    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> Date {
        let micros: Int64
        switch type {
        case .timestamptz, .timestamp: micros = try decodeExactInteger(Int64.self, bytes)
        case .date:
            let days = try decodeExactInteger(Int32.self, bytes)
            if days == .max { return .distantFuture }
            if days == .min { return .distantPast }
            micros = Int64(days) * microsecondsPerDay
        default: throw mismatch(type)
        }
        if micros == .max { return .distantFuture }
        if micros == .min { return .distantPast }
        let sinceReference = micros - postgresEpochToReference * 1_000_000
        return Date(timeIntervalSinceReferenceDate: Double(sinceReference) / 1_000_000)
    }
}

/// One-dimensional arrays, for `unnest($1::bigint[])` batch statements and array columns. Elements may be
/// optional (`[String?]`) to carry NULLs.
extension Array: PostgresEncodable where Element: PostgresEncodable {
    public static var postgresType: PostgresDataType { Element.postgresType.arrayType ?? .unspecified }

    public func encode(into buffer: inout [UInt8]) {
        let hasNull = contains { $0.isPostgresNull }
        buffer.appendBigEndian(Int32(1))  // dimensions
        buffer.appendBigEndian(Int32(hasNull ? 1 : 0))
        buffer.appendBigEndian(Element.postgresType.rawValue)
        buffer.appendBigEndian(Int32(count))
        buffer.appendBigEndian(Int32(1))  // lower bound
        var element: [UInt8] = []
        for value in self {
            if value.isPostgresNull {
                buffer.appendBigEndian(Int32(-1))
                continue
            }
            element.removeAll(keepingCapacity: true)
            value.encode(into: &element)
            buffer.appendBigEndian(Int32(element.count))
            buffer.append(contentsOf: element)
        }
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {}
extension Array: PostgresNonNullDecodable where Element: PostgresDecodable {
    public static func decodeValue(from bytes: ArraySlice<UInt8>, type: PostgresDataType) throws -> [Element] {
        var reader = PostgresByteReader(bytes)
        let dimensions = try reader.read(Int32.self)
        _ = try reader.read(Int32.self)  // has-null flag
        let elementType = PostgresDataType(try reader.read(UInt32.self))
        if dimensions == 0 { return [] }
        guard dimensions == 1 else { throw PostgresError.decoding("only one-dimensional arrays are supported") }
        let count = try reader.read(Int32.self)
        _ = try reader.read(Int32.self)  // lower bound
        guard count >= 0 else { throw PostgresError.decoding("negative array length") }
        var values: [Element] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            let length = try reader.read(Int32.self)
            let element = length < 0 ? nil : try reader.read(count: Int(length))
            values.append(try Element.decode(from: element, type: elementType))
        }
        return values
    }
}

/// `numeric` in the binary format: base-10000 digits with a weight, a sign and a display scale.
enum PostgresNumeric {
    static func string(from bytes: ArraySlice<UInt8>) throws -> String {
        var reader = PostgresByteReader(bytes)
        let count = Int(try reader.read(Int16.self))
        let weight = Int(try reader.read(Int16.self))
        let sign = try reader.read(UInt16.self)
        let scale = Int(try reader.read(Int16.self))
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        default: break
        }
        var digits: [Int] = []
        for _ in 0..<count { digits.append(Int(try reader.read(Int16.self))) }
        func digit(_ index: Int) -> Int { index >= 0 && index < digits.count ? digits[index] : 0 }
        func padded(_ value: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: 4 - text.count) + text
        }
        var text = sign == 0x4000 ? "-" : ""
        if weight < 0 {
            text += "0"
        } else {
            text += String(digit(0))
            if weight > 0 { for index in 1...weight { text += padded(digit(index)) } }
        }
        if scale > 0 {
            var fraction = ""
            var index = weight + 1
            while fraction.count < scale {
                fraction += padded(digit(index))
                index += 1
            }
            text += "." + fraction.prefix(scale)
        }
        return text
    }
}

extension FixedWidthInteger {
    /// `wide` as this type, or a decoding error when it does not fit.
    fileprivate static func narrowed(_ wide: Int64) throws -> Self {
        guard let value = Self(exactly: wide) else { throw PostgresError.decoding("value overflows \(Self.self)") }
        return value
    }
}
