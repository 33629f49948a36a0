/// An error in what the caller asked for, with a message fit to show them.
public enum HooklineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An argument is malformed or out of range.
    case invalidArgument(String)
    /// One named field of a request is malformed or out of range: its name as the admin API spells it
    /// (`allow_ips`), and what is wrong with it.
    case invalidField(String, String)
    /// The named thing does not exist.
    case notFound(String)
    /// The named thing was revoked (a client revoked while it asked for a token).
    case revoked(String)
    /// The named thing is not in a state that allows this (a job that is not waiting, for a cancel).
    case conflict(String)
    /// The named thing changed since the version the caller's edit started from.
    case stale(String)

    public var description: String {
        switch self {
        case .invalidArgument(let message): message
        case .invalidField(let field, let message): "\(field): \(message)"
        case .notFound(let message): message
        case .revoked(let message): message
        case .conflict(let message): message
        case .stale(let message): message
        }
    }
}
