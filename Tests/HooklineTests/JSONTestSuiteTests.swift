import Foundation
import Hookline
import Testing

/// The JSONTestSuite's parsing cases (github.com/nst/JSONTestSuite, MIT; Tests/JSONTestSuite): `y_` files must
/// read, `n_` files must be refused, `i_` files (the RFC leaves them to the parser) may go either way.
@Suite("JSONTestSuite")
struct JSONTestSuiteTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("JSONTestSuite/test_parsing")

    /// Every case: the vendored files, and the two large ones, made here rather than kept in git.
    static func cases() throws -> [(name: String, bytes: [UInt8])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        var cases = try names.sorted().map { name in
            (name, Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
        cases.append(("n_structure_100000_opening_arrays.json", Array(repeating: UInt8(ascii: "["), count: 100_000)))
        cases.append(
            ("n_structure_open_array_object.json", Array(String(repeating: #"[{"":"#, count: 50_000).utf8) + [0x0a]))
        return cases
    }

    @Test func everyYesCaseReadsAndEveryNoCaseIsRefused() throws {
        let cases = try Self.cases()
        #expect(cases.count == 318)
        var tally: [String: (passed: Int, total: Int)] = [:]
        for (name, bytes) in cases {
            let kind = String(name.prefix(1))
            let value = try? JSON(parsing: bytes)
            let passed: Bool
            switch kind {
            case "y": passed = value != nil
            case "n": passed = value == nil
            default: passed = true
            }
            #expect(passed, "\(name) was \(value == nil ? "refused" : "read")")
            tally[kind, default: (0, 0)].total += 1
            if passed { tally[kind, default: (0, 0)].passed += 1 }
            if kind == "i", let value {
                #expect(try JSON(parsing: value.bytes) == value, "\(name) does not read back as itself")
            }
        }
        let accepted = cases.filter { $0.name.hasPrefix("i_") && (try? JSON(parsing: $0.bytes)) != nil }.count
        print(
            "JSONTestSuite: y \(tally["y"]?.passed ?? 0)/\(tally["y"]?.total ?? 0) read, n \(tally["n"]?.passed ?? 0)/"
                + "\(tally["n"]?.total ?? 0) refused, i \(tally["i"]?.total ?? 0) without a crash (\(accepted) read)")
    }
}
