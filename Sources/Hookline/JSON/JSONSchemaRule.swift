import Foundation

/// One keyword of a parsed ``JSONSchema``, checked when the schema was read. A schema is a list of rules: the
/// schema `true` is none, `false` is `[.never]`, and subschemas are lists of their own.
enum JSONSchemaRule: Sendable {
    /// The schema `false`: nothing is allowed.
    case never
    case type([InstanceType])
    case enumeration([JSON])
    case constant(JSON)
    /// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, with the schema's number.
    case bound(Bound, JSON)
    case minLength(Int)
    case maxLength(Int)
    case pattern(String, NSRegularExpression)
    case items([JSONSchemaRule])
    case minItems(Int)
    case maxItems(Int)
    case required([String])
    case properties([String: [JSONSchemaRule]])
    /// `additionalProperties`: the schema of the properties that `properties` does not name.
    case additionalProperties([JSONSchemaRule], declared: Set<String>)
    case allOf([[JSONSchemaRule]])
    case anyOf([[JSONSchemaRule]])
    case oneOf([[JSONSchemaRule]])
    case not([JSONSchemaRule])

    /// The names `type` accepts.
    enum InstanceType: String, Sendable, CaseIterable {
        case object, array, string, number, integer, boolean, null

        /// The type's name with its article, for messages: "an object", "null".
        var phrase: String {
            switch self {
            case .object, .array, .integer: "an \(rawValue)"
            case .null: "null"
            default: "a \(rawValue)"
            }
        }

        /// The type of a value: `integer` for a number without a fractional part, 2.0 included.
        init(of value: JSON) {
            switch value {
            case .null: self = .null
            case .bool: self = .boolean
            case .int: self = .integer
            case .double(let number):
                self = number.isFinite && number.rounded(.towardZero) == number ? .integer : .number
            case .string: self = .string
            case .array: self = .array
            case .object: self = .object
            }
        }

        /// Whether a value of type `actual` is one of this type (an integer is a number too).
        func admits(_ actual: InstanceType) -> Bool {
            self == actual || (self == .number && actual == .integer)
        }
    }

    enum Bound: String, Sendable, CaseIterable {
        case minimum, maximum, exclusiveMinimum, exclusiveMaximum
    }
}
