/// A PostgreSQL type, by its OID: the types that Hookline binds and decodes.
public struct PostgresDataType: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Lets the server infer the type from context (used for untyped NULLs).
    public static let unspecified = PostgresDataType(0)
    public static let bool = PostgresDataType(16)
    public static let bytea = PostgresDataType(17)
    public static let name = PostgresDataType(19)
    public static let int8 = PostgresDataType(20)
    public static let int2 = PostgresDataType(21)
    public static let int4 = PostgresDataType(23)
    public static let text = PostgresDataType(25)
    public static let oid = PostgresDataType(26)
    public static let json = PostgresDataType(114)
    public static let float4 = PostgresDataType(700)
    public static let float8 = PostgresDataType(701)
    public static let unknown = PostgresDataType(705)
    public static let bpchar = PostgresDataType(1042)
    public static let varchar = PostgresDataType(1043)
    public static let date = PostgresDataType(1082)
    public static let timestamp = PostgresDataType(1114)
    public static let timestamptz = PostgresDataType(1184)
    public static let numeric = PostgresDataType(1700)
    public static let uuid = PostgresDataType(2950)
    public static let jsonb = PostgresDataType(3802)

    public static let boolArray = PostgresDataType(1000)
    public static let byteaArray = PostgresDataType(1001)
    public static let int2Array = PostgresDataType(1005)
    public static let int4Array = PostgresDataType(1007)
    public static let textArray = PostgresDataType(1009)
    public static let varcharArray = PostgresDataType(1015)
    public static let int8Array = PostgresDataType(1016)
    public static let float4Array = PostgresDataType(1021)
    public static let float8Array = PostgresDataType(1022)
    public static let timestampArray = PostgresDataType(1115)
    public static let timestamptzArray = PostgresDataType(1185)
    public static let uuidArray = PostgresDataType(2951)
    public static let jsonArray = PostgresDataType(199)
    public static let jsonbArray = PostgresDataType(3807)

    private static let arrayTypes: [PostgresDataType: PostgresDataType] = [
        .bool: .boolArray, .bytea: .byteaArray, .int2: .int2Array, .int4: .int4Array, .int8: .int8Array,
        .text: .textArray, .varchar: .varcharArray, .float4: .float4Array, .float8: .float8Array,
        .timestamp: .timestampArray, .timestamptz: .timestamptzArray, .uuid: .uuidArray, .json: .jsonArray,
        .jsonb: .jsonbArray,
    ]

    /// The array type whose elements are of this type, if we know it.
    public var arrayType: PostgresDataType? { Self.arrayTypes[self] }

    /// Whether values of this type are text in the binary protocol.
    var isTextual: Bool {
        self == .text || self == .varchar || self == .bpchar || self == .name || self == .unknown
            || self == .json
    }

    public var description: String { "oid \(rawValue)" }
}
