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
        let bytes = Array(hop.utf8)
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        let isPort = { (rest: ArraySlice<UInt8>) in
            rest.first == UInt8(ascii: ":") && rest.count > 1 && rest.dropFirst().allSatisfy(isDigit)
        }
        if bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
            let inner = bytes[1..<close]
            let isIPv6 = { (byte: UInt8) in
                isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
                    || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")
            }
            let rest = bytes[(close + 1)...]
            guard !inner.isEmpty, inner.allSatisfy(isIPv6), rest.isEmpty || isPort(rest) else { return hop }
            return String(decoding: inner, as: UTF8.self)
        }
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.lastIndex(of: UInt8(ascii: ":")) == colon {
            let host = bytes[..<colon]
            guard !host.isEmpty, host.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }), isPort(bytes[colon...])
            else { return hop }
            return String(decoding: host, as: UTF8.self)
        }
        return hop
    }
}
