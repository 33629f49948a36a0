import Foundation
import Postgres
import Testing

@testable import Hookline

/// Cycle templates on their own: the job's values as templates see them, the library's transforms, and the
/// budget that bounds what a step's templates render. No database.
@Suite("Cycle templates: values, transforms and the render budget")
struct TemplateRenderTests {
    /// The interpreter tests' fixtures: definitions and jobs.
    private let fixture = CycleInterpreterTests()

    /// `plusone` and `minusone` past the ends of a 64-bit integer render nothing, as a transform that does not
    /// apply does, instead of trapping: the payload's number comes from the sender, and a trap ends the
    /// worker process with every job it runs.
    @Test func integerTransformsPastTheEndsRenderNothing() throws {
        let definition = try fixture.cycle(
            #"{"name": "t", "steps": [{"id": "m", "type": "map", "fields": {"up": "[{{plusone(payload.big)}}]", "down": "[{{minusone(payload.small)}}]", "next": "{{plusone(payload.n)}} {{minusone(payload.n)}} {{#even(payload.n)}}even{{/even(payload.n)}}"}}]}"#
        )
        var run = CycleInterpreter(
            job: fixture.job(#"{"big": 9223372036854775807, "small": -9223372036854775808, "n": 41}"#),
            definition: definition)
        guard case .completed(.succeeded, let checkpoint?, _) = run.executeInMemory() else {
            Issue.record("the map did not complete")
            return
        }
        #expect(try fixture.outputs(checkpoint) == #"{"m":{"down":"[]","next":"42 40 ","up":"[]"}}"#)
    }

    /// Templates whose sections multiply (nested over one array) or repeat a large value fail their step, for
    /// good, once they would render more than their budget: they cannot hold a worker or its memory.
    @Test(arguments: [
        ("{{#payload.a}}{{#payload.a}}{{#payload.a}}x{{/payload.a}}{{/payload.a}}{{/payload.a}}", false),
        ("{{#payload.a}}{{payload.big}}{{/payload.a}}", false),
        ("{{#payload.a}}{{uppercased(payload.big)}}{{/payload.a}}", false),
        ("{{#payload.a}}{{payload}}{{/payload.a}}", false),
        ("{{#payload.a}}{{#payload.a}}{{payload.a}}{{/payload.a}}{{/payload.a}}", false),
        ("{{#payload.a}}{{^uppercased(payload.big)}}{{/uppercased(payload.big)}}{{/payload.a}}", false),
        (
            "{{#sorted(payload.o)}}{{#sorted(payload.o)}}{{#sorted(payload.o)}}x{{/sorted(payload.o)}}{{/sorted(payload.o)}}{{/sorted(payload.o)}}",
            false
        ),
        ("{{#payload.a}}{{.}},{{/payload.a}}", true),
        // A long template with a short section: each round counts the section, not the whole template.
        (String(repeating: "-", count: 50_000) + "{{#payload.a}}{{.}},{{/payload.a}}", true),
    ])
    func templatesPastTheirBudgetFailTheirStep(template: String, fits: Bool) throws {
        let definition = try fixture.cycle(
            #"{"name": "t", "retry": {"max_attempts": 5}, "steps": [{"id": "m", "type": "map", "fields": {"out": "\#(template)"}}]}"#
        )
        let items = (0..<400).map(String.init).joined(separator: ",")
        let big = String(repeating: "b", count: 100_000)
        let members = (0..<400).map { #""k\#($0)": \#($0)"# }.joined(separator: ",")
        var run = CycleInterpreter(
            job: fixture.job(#"{"a": [\#(items)], "big": "\#(big)", "o": {\#(members)}}"#), definition: definition)
        switch run.executeInMemory() {
        case .completed(.succeeded, let checkpoint?, _):
            #expect(fits, "rendered in full: \(template)")
            if fits {
                let out = try JSON(parsing: checkpoint.outputs.bytes).object?["m"]?.object?["out"]?.string
                #expect(out?.hasSuffix("397,398,399,") == true)
            }
        case .failed(let error, let permanent, _, _, _):
            #expect(!fits, "\(template): \(error)")
            #expect(permanent)
            #expect(error.contains("step m: its templates would render more than"), "\(error)")
        case let other:
            Issue.record("\(other)")
        }
    }

    /// Whole arrays and objects, transforms and sections over an object's members render as the template
    /// library rendered Swift's own arrays and dictionaries.
    @Test func wholeValuesAndTransformsRenderAsBefore() throws {
        let definition = try fixture.cycle(
            #"{"name": "t", "steps": [{"id": "m", "type": "map", "fields": {"list": "{{payload.l}}", "object": "{{payload.o}}", "empty": "{{payload.e}}|{{payload.n}}", "members": "{{#sorted(payload.p)}}{{key}}={{value}};{{/sorted(payload.p)}}", "pairs": "{{#sorted(payload.p)}}{{.}}{{/sorted(payload.p)}}", "counts": "{{count(payload.l)}} {{count(payload.p)}} {{first(payload.l)}} {{last(payload.l)}}", "text": "{{uppercased(payload.s)}} {{#reversed(payload.r)}}{{.}}{{/reversed(payload.r)}}"}}]}"#
        )
        var run = CycleInterpreter(
            job: fixture.job(
                #"{"l": ["a", 1, 2.5, true], "o": {"k": "v"}, "e": [], "n": {}, "p": {"b": 2, "a": "x"}, "s": "hi", "r": [1, 2, 3]}"#
            ), definition: definition)
        guard case .completed(.succeeded, let checkpoint?, _) = run.executeInMemory() else {
            Issue.record("the map did not complete")
            return
        }
        let out = try JSON(parsing: checkpoint.outputs.bytes).object?["m"]?.object ?? [:]
        #expect(out["list"] == .string(#"["a", 1, 2.5, true]"#))
        #expect(out["object"] == .string(#"["k": "v"]"#))
        #expect(out["empty"] == .string("[]|[:]"))
        #expect(out["members"] == .string("a=x;b=2;"))
        #expect(out["pairs"] == .string(#"(key: "a", value: "x")(key: "b", value: 2)"#))
        #expect(out["counts"] == .string("4 2 a true"))
        #expect(out["text"] == .string("HI 321"))
    }

    /// A section's round counts its own body: the longest section of the template, or all of it when the
    /// sections cannot be told apart as the template library tells them.
    @Test func aRoundCountsTheLongestSectionBody() throws {
        #expect(TemplateTags.longestSection("no sections") == 1)
        #expect(TemplateTags.longestSection("head {{#a}}12345{{/a}} tail") == 5)
        #expect(TemplateTags.longestSection("{{#a}}x{{#b}}123{{/b}}y{{/a}}") == 17)
        #expect(TemplateTags.longestSection("{{^a}}12{{/a}}{{{raw}}}") == 2)
        // A run of braces after a tag is text the section renders every round.
        #expect(TemplateTags.longestSection("{{#a}}}}}}}}}}{{/a}}") == 8)
        #expect(TemplateTags.longestSection("{{#a}}{{{x}}}}}}{{/a}}") == 10)
        let whole = ["{{=<% %>=}}<%#a%>1<%/a%>", "{{#a}}never closed", "{{\u{301} {{#a}}xxxx{{\u{301} {{/a}}"]
        for text in whole {
            #expect(TemplateTags.longestSection(text) == text.utf8.count, "\(text.debugDescription): the whole text")
        }
        // Partials, parents and blocks are refused: nothing to include, and a block's indentation repeats on
        // every line of it, which no round accounts for.
        for text in ["{{>other}}", "{{<parent}}{{/parent}}", "x\n  {{$b}}\n{{/b}}"] {
            #expect(throws: TemplateError.self, "\(text.debugDescription)") { try Template(text) }
        }
        _ = try Template("{{&raw}} {{!comment}} {{#a}}{{.}}{{/a}}")
    }
}
