/// Cuts PostgreSQL's NotificationResponse messages (`A`) out of a server's stream when they come while the
/// session is idle, as a transaction-mode pooler does to a client whose LISTEN went to a server connection it no
/// longer holds: the pooler passes on only what comes while it links the two, during a transaction. So a
/// notification inside a statement's answer (before its ReadyForQuery, `Z`: the session's own NOTIFY, delivered
/// at its commit) passes, and one that arrives between statements (another session's) does not.
///
/// The stream starts with the one-byte answers to the client's SSLRequest or GSSENCRequest (`N`: no); `S` or
/// `G` would start TLS or GSS, which it cannot read, so then it passes everything. After them every message is a
/// type byte and a 32-bit length that counts itself.
struct NotificationFilter {
    private var pending: [UInt8] = []
    private var started = false
    private var encrypted = false
    /// Whether the last message was ReadyForQuery: nothing is being answered.
    private var idle = false

    /// What of `bytes` (and what was held back before) to pass on now: whole messages, notifications left out.
    mutating func pass(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        if encrypted { return Array(bytes) }
        pending += bytes
        var out: [UInt8] = []
        var index = 0
        while !started, index < pending.count {
            switch pending[index] {
            case UInt8(ascii: "N"):
                out.append(pending[index])
                index += 1
            case UInt8(ascii: "S"), UInt8(ascii: "G"):
                encrypted = true
                out += pending[index...]
                pending = []
                return out
            default:
                started = true
            }
        }
        while started, pending.count - index >= 5 {
            let length = pending[(index + 1)...(index + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard pending.count - index >= 1 + length else { break }
            let type = pending[index]
            if type != UInt8(ascii: "A") || !idle { out += pending[index..<(index + 1 + length)] }
            if type != UInt8(ascii: "A") { idle = type == UInt8(ascii: "Z") }
            index += 1 + length
        }
        pending.removeFirst(index)
        return out
    }
}
