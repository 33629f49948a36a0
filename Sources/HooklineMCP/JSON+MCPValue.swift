import Foundation
import Hookline
import MCP

extension Value {
    /// The MCP SDK's form of a Hookline JSON value.
    init(json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .int(let value): self = Int(exactly: value).map { .int($0) } ?? .double(Double(value))
        case .double(let value): self = .double(value)
        case .string(let value): self = .string(value)
        case .array(let values): self = .array(values.map { Value(json: $0) })
        case .object(let members): self = .object(members.mapValues { Value(json: $0) })
        }
    }
}

extension JSON {
    /// A Hookline JSON value from the MCP SDK's form (binary data as its base64 text).
    init(mcp value: Value) {
        switch value {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .int(let value): self = .int(Int64(value))
        case .double(let value): self = .double(value)
        case .string(let value): self = .string(value)
        case .data(_, let data): self = .string(data.base64EncodedString())
        case .array(let values): self = .array(values.map { JSON(mcp: $0) })
        case .object(let members): self = .object(members.mapValues { JSON(mcp: $0) })
        }
    }
}
