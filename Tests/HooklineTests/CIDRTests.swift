import Hookline
import Testing

/// Allow-lists and trusted proxies: `address[/prefix]`, read strictly.
@Suite("CIDR ranges")
struct CIDRTests {
    @Test(arguments: ["10.0.0.0/8", "10.1.2.3", "2001:db8::/32", "::1", "0.0.0.0/0", " 192.168.0.0/16 "])
    func wellFormedRangesParse(_ text: String) {
        #expect(CIDR(text) != nil, "\(text.debugDescription)")
    }

    /// A prefix is decimal digits only: `Int("+8")` would read the first as 8, and a typo in an allow-list
    /// would be taken for a range nobody wrote.
    @Test(arguments: [
        "10.0.0.0/+8", "10.0.0.0/-0", "10.0.0.0/ 8", "10.0.0.0/8 /8", "10.0.0.0/", "10.0.0.0/33",
        "::/129", "10.0.0.0/08x", "10.0.0.0/٨",
    ])
    func malformedPrefixesAreRefused(_ text: String) {
        #expect(CIDR(text) == nil, "\(text.debugDescription)")
    }

    @Test func aRangeContainsItsAddressesOnly() throws {
        let range = try #require(CIDR("10.1.0.0/16"))
        #expect(range.contains("10.1.255.7"))
        #expect(!range.contains("10.2.0.1"))
        #expect(!range.contains("not an address"))
        #expect(range.description == "10.1.0.0/16")
    }

    /// Some proxies write the client's port into `X-Forwarded-For`. Read as it was, such an entry named no client:
    /// every caller behind the proxy shared one key of the brake, so one caller's wrong secrets locked all out.
    @Test func aForwardedForEntryWithAPortNamesItsAddress() {
        let proxies = ["10.0.0.0/8"].compactMap(CIDR.init)
        for (entry, address) in [
            ("203.0.113.9:51234", "203.0.113.9"), ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::2]", "2001:db8::2"),
            ("2001:db8::3", "2001:db8::3"),
        ] {
            let resolved = ClientAddress.resolve(
                peer: "10.0.0.1", forwardedFor: "\(entry), 10.0.0.2:80", trustedProxies: proxies)
            #expect(resolved == address, "\(entry)")
        }
        // Only a port after an address is dropped: what is left must be the address alone (the fuzzer found
        // "192.168.1.4 :1", which a looser reading turned into "192.168.1.4 " with its blank).
        for entry in ["host.example:80", "192.168.1.4 :1", "[2001:db8::1] :443", "[2001:db8::zz]:1", "1.2.3.4:"] {
            #expect(
                ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: entry, trustedProxies: proxies) == nil, "\(entry)"
            )
        }
    }
}
