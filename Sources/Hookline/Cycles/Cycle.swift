import Foundation

/// An account's workflow: its JSON definition and whether it runs.
public struct Cycle: Sendable, Encodable, Hashable {
    public var id: UUID
    public var accountID: UUID
    public var name: String
    public var version: Int
    public var active: Bool
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, version, active
        case accountID = "account_id"
        case createdAt = "created_at"
    }
}
