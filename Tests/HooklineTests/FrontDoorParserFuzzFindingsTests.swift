import Foundation
import Hookline
import Testing

/// What `scripts/fuzz` found in the front door's parsers (forms, Basic credentials, addresses), each kept as the
/// input that showed it (the same inputs are in Tests/Fuzz/Corpus, replayed by FuzzCorpusTests).
@Suite("Front-door parser bugs the fuzzer found")
struct FrontDoorParserFuzzFindingsTests {
    /// The form body was split at characters: `=` followed by a combining mark was one character, so
    /// `a=\u{301}` read as a name `a=\u{301}` without a value instead of `a` = `\u{301}`.
    @Test func aFormBodyIsSplitAtBytes() throws {
        let form = try FormBody(bytes: Array("a=\u{301}&b=1&\u{301}c=2".utf8))
        #expect(form.values == ["a": "\u{301}", "b": "1", "\u{301}c": "2"])
        #expect(throws: FormBody.ParseError.repeated("a")) { try FormBody(bytes: Array("a=1&a=\u{301}".utf8)) }
    }

    /// Basic credentials were split at the first `:` character: after an id ending in U+0600 (a prefixed
    /// concatenation mark), the `:` was part of one character with it, and the credentials did not parse.
    @Test func basicCredentialsEndTheIdAtTheFirstColonByte() throws {
        let encoded = Data("\u{600}:secret".utf8).base64EncodedString()
        let credentials = try #require(BasicCredentials(header: "Basic \(encoded)"))
        #expect(credentials.username == "\u{600}")
        #expect(credentials.password == "secret")
        let raw = Data("id:\u{301}secret:x".utf8).base64EncodedString()
        #expect(BasicCredentials(header: "Basic \(raw)")?.password == "\u{301}secret:x")
    }

    /// `X-Forwarded-For` was split at characters: a combining mark after a comma joined two entries, and the
    /// joined text was taken as the client's address.
    @Test func forwardedForIsSplitAtBytes() {
        let proxies = ["10.0.0.0/8"].compactMap(CIDR.init)
        let resolved = ClientAddress.resolve(
            peer: "10.0.0.1", forwardedFor: "198.51.100.7,\u{301}203.0.113.9, 10.0.0.2", trustedProxies: proxies)
        // Split at the comma byte, the rightmost untrusted entry is "\u{301}203.0.113.9": not an address, so no
        // client is named (split at characters, the mark would have joined it to the entry before).
        #expect(resolved == nil)
        let joined = ClientAddress.resolve(
            peer: "10.0.0.1", forwardedFor: "198.51.100.7, 203.0.113.9,\u{301}", trustedProxies: proxies)
        #expect(joined == nil, "the entry after the comma is the mark alone, not an address")
        let plain = ClientAddress.resolve(
            peer: "10.0.0.1", forwardedFor: "198.51.100.7,\u{301}, 203.0.113.9", trustedProxies: proxies)
        #expect(plain == "203.0.113.9")
    }
}
