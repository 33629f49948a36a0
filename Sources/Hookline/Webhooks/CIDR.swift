#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `2001:db8::/32`; a bare address is a single host).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address: 4 bytes for IPv4, 16 for IPv6.
    public let address: [UInt8]
    public let prefixLength: Int

    /// Parses `address[/prefix]`; `nil` when malformed.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let bytes = CIDR.parseAddress(String(parts[0])) else { return nil }
        let maximum = bytes.count * 8
        let length: Int
        if parts.count == 2 {
            // Digits only: `Int` also reads a sign, and "/-0" would allow every address.
            let digits = parts[1].utf8
            guard (1...3).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }),
                let parsed = Int(parts[1]), (0...maximum).contains(parsed)
            else { return nil }
            length = parsed
        } else {
            length = maximum
        }
        address = CIDR.mask(bytes, to: length)
        prefixLength = length
    }

    /// Whether `ip` (text) lies in this network. IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) count as IPv4.
    public func contains(_ ip: String) -> Bool {
        guard var bytes = CIDR.parseAddress(ip) else { return false }
        if bytes.count == 16, address.count == 4, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff,
            bytes[11] == 0xff
        {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == address.count else { return false }
        return CIDR.mask(bytes, to: prefixLength) == address
    }

    public var description: String { "\(CIDR.format(address))/\(prefixLength)" }

    static func parseAddress(_ text: String) -> [UInt8]? {
        // inet_pton reads a C string: it would stop at a NUL and take `::\0junk` for `::`.
        guard !text.utf8.contains(0) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func mask(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = max(0, min(8, length - index * 8))
            return bits == 8 ? byte : byte & ~(0xff >> bits)
        }
    }

    static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
