import Crypto
import Foundation
import Hookline
import Testing

/// What `scripts/fuzz` found in the Hookline module's parsers, each kept as the input that showed it (the same
/// inputs are in Tests/Fuzz/Corpus, replayed by FuzzCorpusTests).
@Suite("Parser bugs the fuzzer found")
struct ParserFuzzFindingsTests {
    /// `1e400` read as infinity, which the writer writes as `null`: a payload's number became null in a step's
    /// output. Foundation refuses such numbers ("not representable"); so does the reader now.
    @Test func numbersBeyondDoubleAreRefusedRatherThanWrittenBackAsNull() throws {
        for text in ["[-1e+9999]", "1e400", #"{"amount": 123123e100000}"#, "1" + String(repeating: "0", count: 400)] {
            #expect(throws: (any Error).self, "\(text)") { try JSON(parsing: Array(text.utf8)) }
        }
        #expect(try JSON(parsing: Array("[123e-10000000]".utf8)) == .array([.double(0)]))
        #expect(try JSON(parsing: Array("1.7976931348623157e308".utf8)) == .double(.greatestFiniteMagnitude))
    }

    /// Pointers were read character by character: a combining mark after `/` or `~` joined it into one
    /// character, so `/~0\u{301}` (the token `~\u{301}`) was refused and `/~\u{301}` accepted.
    @Test func jsonPointersAreReadScalarByScalar() throws {
        #expect(JSONPointer("/~0\u{301}")?.tokens == ["~\u{301}"])
        #expect(JSONPointer("/\u{301}~0")?.tokens == ["\u{301}~"])
        #expect(JSONPointer("/~1\u{301}/x")?.tokens == ["/\u{301}", "x"])
        #expect(JSONPointer("/~\u{301}") == nil)
        #expect(JSONPointer("\u{301}/a") == nil)
        let document = try JSON(parsing: Array(#"{"~\u0301": {"\u0301~": 7}}"#.utf8))
        #expect(JSONPointer("/~0\u{301}/\u{301}~0")?.resolve(in: document) == .int(7))
    }

    /// A definition with a key that starts with a combining mark got a problem located at `/\u{301}~0`, which
    /// the pointer reader refused; and a key `~\u{301}/` one at `/~\u{301}~1`, since escaping replaced
    /// characters and `~\u{301}` is not the character `~`. Every location must be a pointer into the definition.
    @Test func everyProblemLocationOfAStrangeKeyIsAJSONPointer() throws {
        let result = CycleDefinition.parse(Array(#"{"name": "n", "\u0301~": 1, "~\u0301/": 2}"#.utf8))
        guard case .failure(let failure) = result else {
            Issue.record("unknown keys were accepted")
            return
        }
        #expect(Set(failure.problems.map(\.location)) == ["/\u{301}~0", "/~0\u{301}~1"])
        for problem in failure.problems { #expect(JSONPointer(problem.location) != nil, "\(problem.location)") }
    }

    /// inet_pton reads C strings, so an address was read up to its first NUL: `::/0` contained `::\0\0` and
    /// `10.0.0.1\0junk` parsed as `10.0.0.1/32`.
    @Test func addressesWithANulAreNotAddresses() {
        #expect(CIDR("::/0")?.contains("::\0\0") == false)
        #expect(CIDR("10.0.0.0/8")?.contains("10.0.0.1\0") == false)
        #expect(CIDR("10.0.0.1\0junk") == nil)
        #expect(CIDR("10.0.0.0/8")?.contains("10.0.0.1") == true)
    }

    /// `Stripe-Signature` was split at characters: an entry ending in a prefixed concatenation mark (U+0600)
    /// joined the comma after it, and the timestamp and signature behind it were lost.
    @Test func aStripeSignatureAfterAnEntryEndingInAJoiningMarkStillCounts() {
        let secret = "whsec_test"
        let body = Array(#"{"id":"evt_1"}"#.utf8)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("1700000000.".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        let signature = Data(mac).map { String(format: "%02x", $0) }.joined()
        let verdict = SignatureCheck.check(
            scheme: .stripe, settings: WebhookAuthSettings(secret: secret),
            headers: ["stripe-signature": "junk\u{600},t=1700000000,v1=\(signature)"], body: body,
            now: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(verdict == nil)
    }

    /// The same for Standard Webhooks' space-separated signatures.
    @Test func aStandardWebhooksSignatureAfterAnEntryEndingInAJoiningMarkStillCounts() {
        let key = Data("a signing secret of 32 bytes....".utf8)
        let body = Array("{}".utf8)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("msg_1.1700000000.".utf8) + body, using: SymmetricKey(data: key))
        let verdict = SignatureCheck.check(
            scheme: .standardWebhooks, settings: WebhookAuthSettings(secret: "whsec_" + key.base64EncodedString()),
            headers: [
                "webhook-id": "msg_1", "webhook-timestamp": "1700000000",
                "webhook-signature": "v1,x\u{600} v1,\(Data(mac).base64EncodedString())",
            ], body: body, now: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(verdict == nil)
    }
}
