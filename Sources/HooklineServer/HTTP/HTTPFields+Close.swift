import HTTPTypes

extension HTTPFields {
    /// Whether the `Connection` field lists `close`: a token of a comma-separated list, in any case (RFC 9110
    /// §7.6.1).
    var asksToClose: Bool {
        guard let value = self[.connection] else { return false }
        return value.split(separator: ",").contains {
            $0.trimmingCharacters(in: .whitespaces).lowercased() == "close"
        }
    }
}
