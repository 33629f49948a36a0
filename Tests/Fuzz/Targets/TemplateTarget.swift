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
        ])
        let context: [String: Any] = [
            "payload": payload.templateValue ?? "", "steps": ["first": payload.templateValue ?? ""],
            "headers": ["content-type": "application/json"], "account_id": "acct", "job_id": 42,
        ]
        let rendered = template.render(context)
        if !text.contains("{{"), rendered != text { return "\(text.debugDescription) rendered as \(rendered)" }
        return nil
    }
}
