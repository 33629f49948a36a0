import Foundation
import Hookline
import Testing

/// A Stripe-signed body's event `id` is the delivery's idempotency key. It is found by a scan of the body's
/// top level, not a parse of all of it, and stored only in a form PostgreSQL's text accepts.
@Suite("The event id of a Stripe-signed body")
struct StripeEventIDTests {
    func key(_ body: String, headers: [String: String] = [:]) -> String? {
        SignatureCheck.idempotencyKey(scheme: .stripe, headers: headers, body: Data(body.utf8))
    }

    @Test func theTopLevelIDIsTheKeyWhereverItStands() {
        #expect(key(#"{"id": "evt_1", "object": "event"}"#) == "evt_1")
        #expect(key(#" { "data": {"id": "ch_9", "list": [1, "]}\"", {"id": 2}]}, "id" : "evt_2" } "#) == "evt_2")
        #expect(key(#"{"\u0069d": "evt_\u00e9"}"#) == "evt_é", "escapes in the key and the value")
        #expect(key(#"{"id": "evt_3", "id": "evt_4"}"#) == "evt_4", "the last of repeated members, as workers read")
        #expect(key(#"{"id": "evt_3", "id": 4}"#) == nil)
    }

    @Test func withoutAStringIDTheHeadersDecide() {
        for body in [
            #"{"id": 7}"#, #"{"id": ""}"#, #"[{"id": "evt_1"}]"#, #"{"data": {"id": "evt_1"}}"#, "", "{",
            #"{"id": "evt_1"#, #"{"a": "unterminated, "id": "x"}"#,
        ] {
            #expect(key(body, headers: ["idempotency-key": "from-header"]) == "from-header", "\(body)")
        }
    }

    /// PostgreSQL's text cannot hold U+0000: kept as it is, such a key failed the whole ingress batch it was in,
    /// and every other delivery of it was committed again alone.
    @Test func anIDHoldingU0000IsStoredAsItsHash() throws {
        let stored = try #require(key(#"{"id": "evt_\u0000"}"#))
        #expect(!stored.utf8.contains(0))
        #expect(stored.hasPrefix("sha256:"))
        #expect(stored != key(#"{"id": "evt_\u0000\u0000"}"#), "distinct ids stay distinct keys")
    }
}
