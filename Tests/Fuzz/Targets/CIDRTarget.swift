import Foundation
import Hookline

extension FuzzTarget {
    /// CIDR networks, which tenants give as a webhook's allowed addresses and operators as trusted proxies.
    /// Input: a network's text, NUL, an address's text.
    ///
    /// Properties: nothing crashes; a network that parses has an address written with address characters only
    /// (digits, hex digits, `.`, `:`, after blanks) and a prefix of decimal digits only, reads back from its
    /// description as itself, and contains its own address; an address it contains is written with address
    /// characters only too.
    static let cidr = FuzzTarget(name: "cidr") { bytes in
        let input = FuzzInput(bytes, fields: 2, options: false)
        let text = input.text(0)
        let address = input.text(1)
        if let network = CIDR(text) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard onlyAddressCharacters(String(trimmed.prefix { $0 != "/" })) else {
                return "\(text.debugDescription) parsed as \(network), but it is not only an address"
            }
            if let slash = trimmed.firstIndex(of: "/"),
                !trimmed[trimmed.index(after: slash)...].utf8.allSatisfy({ (0x30...0x39).contains($0) })
            {
                return "\(text.debugDescription) parsed as \(network), but its prefix is not decimal digits"
            }
            guard CIDR(network.description) == network else { return "\(network) does not read back as itself" }
            let own = String(network.description.prefix { $0 != "/" })
            guard network.contains(own) else { return "\(network) does not contain its own address" }
            if network.contains(address), !onlyAddressCharacters(address) {
                return "\(network) contains \(address.debugDescription), which is not an address"
            }
        }
        return nil
    }

    private static func onlyAddressCharacters(_ text: String) -> Bool {
        text.utf8.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) || ".:".utf8.contains(byte)
        }
    }
}
