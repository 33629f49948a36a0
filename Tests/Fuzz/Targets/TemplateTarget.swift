import Hookline

extension FuzzTarget {
    /// Mustache templates, which cycle definitions hold (URLs, headers, bodies). Input: the template's text.
    ///
    /// Properties: nothing crashes, parsing or rendering; a text without `{{` renders as itself.
    static let template = FuzzTarget(name: "template") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        guard let template = try? Template(text) else { return nil }
        _ = template.stepReferences
        let payload = JSON.object([
            "id": .string("evt_1"), "items": .array([.int(1), .object(["name": .string("a")])]),
            "nested": .object(["flag": .bool(true), "none": .null, "amount": .double(2.5)]),
            "max": .int(.max), "min": .int(.min),
        ])
        let context = TemplateContext(
            [
                "payload": payload, "steps": .object(["first": payload]),
                "headers": .object(["content-type": .string("application/json")]), "account_id": .string("acct"),
                "job_id": .string("42"),
            ], budget: TemplateBudget(limit: 1 << 20))
        // Past its budget is a refusal, not a failure of the property.
        guard let rendered = try? template.render(context) else { return nil }
        if !text.contains("{{"), rendered != text { return "\(text.debugDescription) rendered as \(rendered)" }
        return nil
    }
}
