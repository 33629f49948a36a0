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
}
