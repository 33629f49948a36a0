import Foundation

/// A tenant: it owns OAuth clients, webhooks and cycles.
public struct Account: Sendable, Codable, Hashable {
    public var id: UUID
    public var name: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name
        case createdAt = "created_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercased, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

extension UUID {
    /// The lowercase text form that PostgreSQL prints, used in every Hookline output.
    public var lowercased: String { uuidString.lowercased() }
}
