import Foundation
import Hookline
import Testing

@Suite("The JSON reader and writer")
struct JSONParserTests {
    @Test func readsWhatFoundationReadsAndWritesWhatItReads() throws {
        let documents = [
            #"{"a": [1, -2, 3.5, 1e3, -0.25E-2, true, false, null], "b": {"c": "d"}, "": ""}"#,
            #""escapes: \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00""#, "  42 ", "-0", "9223372036854775807",
            "18446744073709551616", #"[[[[]]], {}]"#, "{\"k\": \"caf\u{e9} \u{2713}\"}",
        ]
        for text in documents {
            let ours = try JSON(parsing: Array(text.utf8))
            let theirs = try JSONDecoder().decode(JSON.self, from: Data(text.utf8))
            #expect(ours.sameValue(as: theirs), "\(text)")
            #expect(try JSON(parsing: ours.bytes) == ours, "round trip of \(text)")
        }
        #expect(try JSON(parsing: Array(#""\ud83d\ude00""#.utf8)) == .string("\u{1F600}"))
        #expect(try JSON(parsing: Array("9223372036854775807".utf8)) == .int(.max))
        #expect(JSON.object(["b": .double(2.5), "a": .int(1)]).text == #"{"a":1,"b":2.5}"#)
    }

    @Test func refusesWhatIsNotJSON() {
        let bad = [
            "", "{", "[1,]", #"{"a" 1}"#, "01", "1.", "-", "tru", #""\x""#, #""\ud800""#, "[1] 2", "\"a\u{1}\"",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ]
        for text in bad {
            #expect(throws: (any Error).self, "\(text)") { try JSON(parsing: Array(text.utf8)) }
        }
    }
}
