import Foundation
import Hookline

extension FuzzTarget {
    /// `X-Forwarded-For`, as the ingress reads it to check a webhook's allowed addresses. Input: options (bit 0:
    /// the peer is a trusted proxy), then the header's value.
    ///
    /// Properties: nothing crashes; the address is the one a reference reads byte by byte, as the header is
    /// defined (entries between `,` bytes, blanks around them dropped, and a port after an IPv4 address or a
    /// bracketed IPv6 one, as some proxies add it): the peer's when it is not a trusted proxy, else the
    /// rightmost entry that is not a trusted proxy, or the leftmost when all are.
    static let forwardedFor = FuzzTarget(name: "forwarded-for") { bytes in
        let input = FuzzInput(bytes, fields: 1)
        let header = input.text(0)
        let proxies = ["10.0.0.0/8", "192.168.0.0/16", "::1/128"].compactMap(CIDR.init)
        let peer = input.bit(0) ? "10.1.2.3" : "203.0.113.9"
        let resolved = ClientAddress.resolve(peer: peer, forwardedFor: header, trustedProxies: proxies)
        /// The reference's reading of a port: a whole match of these forms, else the entry as it is.
        func address(_ hop: String) -> String {
            if let match = hop.wholeMatch(of: /\[([0-9A-Fa-f:.]+)\](?::[0-9]+)?/) { return String(match.1) }
            if let match = hop.wholeMatch(of: /([0-9.]+):[0-9]+/) { return String(match.1) }
            return hop
        }
        let trusted = { (address: String) in proxies.contains { $0.contains(address) } }
        var expected: String? = peer
        if trusted(peer) {
            let hops = header.utf8.split(separator: UInt8(ascii: ","))
                .map { address(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces)) }
            if let hop = hops.last(where: { !trusted($0) }) {
                // An entry that is not an address names no client.
                expected = CIDR(hop) == nil || hop.contains("/") ? nil : hop
            } else {
                expected = hops.first ?? peer
            }
        }
        return resolved == expected
            ? nil
            : "\(header.debugDescription) resolved to \(String(describing: resolved)), not \(String(describing: expected))"
    }
}
