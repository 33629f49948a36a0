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
}
