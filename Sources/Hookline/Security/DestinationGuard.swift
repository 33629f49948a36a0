import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decides which addresses `http` steps may call, so that a cycle cannot be used to reach what only the
/// worker's host can reach (SSRF).
///
/// Always refused: link-local networks (169.254.0.0/16, which holds the cloud metadata services, and
/// fe80::/10), AWS's IPv6 metadata address fd00:ec2::254, unspecified and multicast addresses, "this network"
/// (0.0.0.0/8), the benchmarking network (198.18.0.0/15), the reserved 240.0.0.0/4, and the NAT64 prefixes
/// (64:ff9b::/96 and the local-use 64:ff9b:1::/48), through which an IPv6 address reaches any IPv4 one, the
/// metadata service and private networks included. Refused unless
/// private destinations are allowed: loopback (127.0.0.0/8, ::1), private networks (10.0.0.0/8,
/// 172.16.0.0/12, 192.168.0.0/16, fc00::/7) and shared address space (100.64.0.0/10). A host name is
/// resolved and every address it resolves to must pass; the caller then connects to one of those addresses,
/// not to the name resolved again, so that a name whose answer changes in between (DNS rebinding) cannot
/// lead a call past the check.
public struct DestinationGuard: Sendable {
    public let allowPrivate: Bool
    /// Resolves a host name to its addresses: `getaddrinfo` (``resolve(_:)``) unless a test says otherwise.
    let resolver: @Sendable (String) throws -> [String]

    static let alwaysRefused = [
        "169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8",
        "240.0.0.0/4", "198.18.0.0/15", "64:ff9b::/96", "64:ff9b:1::/48",
    ].compactMap(CIDR.init)
    static let privateNetworks = [
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "100.64.0.0/10",
    ].compactMap(CIDR.init)

    public init(allowPrivate: Bool) { self.init(allowPrivate: allowPrivate, resolver: Self.resolve) }

    /// A guard whose names resolve through `resolver`.
    package init(allowPrivate: Bool, resolver: @escaping @Sendable (String) throws -> [String]) {
        self.allowPrivate = allowPrivate
        self.resolver = resolver
    }

    /// Why an address may not be called, or nil when it may.
    public func refusal(for address: String) -> String? {
        if Self.alwaysRefused.contains(where: { $0.contains(address) }) {
            return
                "\(address) is a link-local, metadata, multicast, unspecified, reserved, benchmarking or NAT64 address,"
                + " which http steps never call"
        }
        if !allowPrivate, Self.privateNetworks.contains(where: { $0.contains(address) }) {
            return "\(address) is a private or loopback address (allow with hookline work --allow-private-destinations)"
        }
        return nil
    }

    /// Checks the URL's host (resolving a name, blocking: call it off the event loops) and returns the
    /// addresses it checked, which the call must connect to; throws ``DestinationRefused`` when the host may
    /// not be called, ``DestinationUnresolved`` when its name does not resolve.
    @discardableResult
    public func check(_ url: URL) throws -> [String] {
        guard let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
            throw DestinationRefused(reason: "only http and https URLs can be called")
        }
        guard var host = url.host, !host.isEmpty else { throw DestinationRefused(reason: "the URL has no host") }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let addresses = CIDR.parseAddress(host) != nil ? [host] : try resolver(host)
        guard !addresses.isEmpty else { throw DestinationUnresolved(host: host, reason: "no address") }
        for address in addresses {
            if let reason = refusal(for: address) { throw DestinationRefused(reason: "\(host): \(reason)") }
        }
        return addresses
    }

    static func resolve(_ host: String) throws -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw DestinationUnresolved(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var current: UnsafeMutablePointer<addrinfo>? = first
        while let entry = current {
            if let address = entry.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                    }
                    addresses.append(CIDR.format(bytes))
                case AF_INET6:
                    let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    addresses.append(CIDR.format(bytes))
                default:
                    break
                }
            }
            current = entry.pointee.ai_next
        }
        return addresses
    }
}

public struct DestinationRefused: Error, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { "destination refused: \(reason)" }
}
