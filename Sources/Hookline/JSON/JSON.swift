/// A JSON value: what payloads, step outputs and cycle definitions are made of.
///
/// Integers are kept apart from other numbers so that ids survive a round trip exactly.
public enum JSON: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses JSON text as ``init(parsing:maxDepth:)`` does, and says whether an object in it gave a key twice
    /// (the last is kept: the value says less than the text).
    package static func parsingNotingDuplicateKeys(_ bytes: some Collection<UInt8>) throws
        -> (value: JSON, duplicateKeys: Bool)
    {
        var parser = JSONParser(bytes)
        let value = try parser.parseDocument()
        return (value, parser.sawDuplicateKeys)
    }

    /// The deepest payloads, definitions and answers may nest: the parser recurses once a level.
    public static let defaultMaxDepth = 512

    /// Parses JSON text (any value at the top, not only objects and arrays), nested at most `maxDepth` deep.
    public init(parsing bytes: some Collection<UInt8>, maxDepth: Int = JSON.defaultMaxDepth) throws {
        var parser = JSONParser(bytes, maxDepth: maxDepth)
        self = try parser.parseDocument()
    }

    /// The value as compact JSON text with sorted keys.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The value as PostgreSQL's `jsonb` can hold it: as ``bytes``, with every U+0000 written as U+FFFD. `jsonb`
    /// refuses `\u0000` (22P05), so a payload's NUL copied into a step's output failed the statement that
    /// stored it, and with it a whole claim's batch, again on every claim.
    public var storedBytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out, storable: true)
        return out
    }

    /// The number, for numeric comparisons.
    public var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var object: [String: JSON]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var array: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public subscript(key: String) -> JSON? { object?[key] }

    /// The length of the value's JSON text, give or take its strings' escapes, when it is at most
    /// `limit`; nil past it. Counting stops at the limit, so a value that holds another many times over (JSON
    /// values are shared by reference) costs no more than `limit` to measure, however large it would be written.
    public func size(atMost limit: Int) -> Int? {
        var remaining = limit
        return count(against: &remaining) ? limit - remaining : nil
    }

    /// The length of an integer's decimal text.
    private static func digits(_ value: Int64) -> Int {
        var rest = value.magnitude
        var count = value < 0 ? 2 : 1
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    /// Takes the value's size from `remaining`; false once that is spent.
    private func count(against remaining: inout Int) -> Bool {
        switch self {
        case .null, .bool: remaining -= 5
        case .int(let value): remaining -= Self.digits(value)
        case .double(let value):
            // As ``write(to:storable:)`` writes it; a non-integral one is written to be counted.
            remaining -=
                value.isFinite && value == value.rounded() && abs(value) < 1e15
                ? Self.digits(Int64(value)) + 2 : "\(value)".utf8.count
        case .string(let text): remaining -= text.utf8.count + 2
        case .array(let items):
            remaining -= 2 + items.count
            for item in items where remaining >= 0 {
                guard item.count(against: &remaining) else { return false }
            }
        case .object(let fields):
            remaining -= 2 + fields.count
            for (key, value) in fields where remaining >= 0 {
                remaining -= key.utf8.count + 3
                guard value.count(against: &remaining) else { return false }
            }
        }
        return remaining >= 0
    }

    /// Equality as JSON means it: 1 and 1.0 are the same number. Integers are compared exactly: past 2^53,
    /// distinct ones round to the same double.
    public func sameValue(as other: JSON) -> Bool {
        switch (self, other) {
        case (.int(let a), .int(let b)): return a == b
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Int64(exactly: b) == a
        case (.double(let a), .double(let b)): return a == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.sameValue(as: $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { value.sameValue(as: $0) } ?? false }
        default:
            return self == other
        }
    }

}

extension JSON {
    /// A JSON object of strings, written directly (sorted keys): the ingress stores every delivery's headers
    /// this way, and JSONEncoder costs several times more.
    public static func objectBytes(_ fields: [String: String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(fields.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        appendObject(fields, to: &out) { value, out in appendString(value, to: &out) }
        return out
    }

    /// `{"key":value,…}` with sorted keys, each value written by `appendValue`.
    static func appendObject<Value>(
        _ fields: [String: Value], to out: inout [UInt8], storable: Bool = false,
        _ appendValue: (Value, inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: "{"))
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(key, to: &out, storable: storable)
            out.append(UInt8(ascii: ":"))
            appendValue(fields[key]!, &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func appendString(_ text: String, to out: inout [UInt8], storable: Bool = false) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case 0 where storable: out.append(contentsOf: "\\ufffd".utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
