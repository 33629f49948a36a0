import Foundation

/// The address a request came from, trusting `X-Forwarded-For` only when the peer is a configured proxy.
public enum ClientAddress {
    /// The peer's address, or, when the peer is a trusted proxy, the rightmost `X-Forwarded-For` entry that
    /// is not itself a trusted proxy (the entries to its left are the client's word, not the proxies').
    public static func resolve(peer: String?, forwardedFor: String?, trustedProxies: [CIDR]) -> String? {
        guard let peer else { return nil }
        let isTrusted = { (address: String) in trustedProxies.contains { $0.contains(address) } }
        guard isTrusted(peer), let forwardedFor else { return peer }
        // Split at `,` bytes: split at characters, a combining mark after a comma would join two entries.
        let hops = forwardedFor.utf8.split(separator: UInt8(ascii: ","))
            .map { withoutPort(Substring($0).trimmingCharacters(in: .whitespaces)) }
        // An entry that is not an address is the client's word at best: no client can be named by it.
        for hop in hops.reversed() where !isTrusted(hop) { return CIDR(hop) == nil || hop.contains("/") ? nil : hop }
        return hops.first ?? peer
    }

    /// A hop without the port some proxies add to it (`203.0.113.9:51234`, `[2001:db8::1]:443`, `[2001:db8::1]`):
    /// kept, the port made every caller's address unreadable, and all of them one key of the brake on failed
    /// client authentications.
    static func withoutPort(_ hop: String) -> String {
        if hop.hasPrefix("["), let end = hop.firstIndex(of: "]") {
            return String(hop[hop.index(after: hop.startIndex)..<end])
        }
        let parts = hop.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber), !parts[1].isEmpty {
            return String(parts[0])
        }
        return hop
    }
}
