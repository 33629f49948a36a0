import Foundation
import Hookline
import Testing

@Suite("Hex digits and UUIDs")
struct HexTests {
    @Test func theCanonicalUUIDParserAgreesWithFoundation() {
        var texts = (0..<200).map { _ in UUID().uuidString }
        texts += texts.prefix(50).map { $0.lowercased() }
        texts += [
            "", "not-a-uuid", "9f349009-d86d-4f1e-b511-61778965942", "9f349009-d86d-4f1e-b511-61778965942ef",
            "9f349009d86d-4f1e-b511-61778965942ef", "9f349009-d86d-4f1e-b511-61778965942g",
            "9f349009-d86d-4f1e-b511+61778965942e", "{9f349009-d86d-4f1e-b511-61778965942e}",
            " 9f349009-d86d-4f1e-b511-61778965942e", "9F349009-D86D-4F1E-B511-61778965942E",
            "9f349009-d86d-4f1e-b511-61778965942é",
        ]
        for text in texts {
            #expect(UUID(canonical: text) == UUID(uuidString: text), "\(text)")
        }
        #expect(
            UUID(canonical: "9f349009-d86d-4f1e-b511-61778965942e")?.uuidString
                == "9F349009-D86D-4F1E-B511-61778965942E")
    }
}
