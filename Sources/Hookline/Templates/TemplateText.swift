import Mustache

/// A JSON string as templates see it: shown as itself, charging its size to its step's ``TemplateBudget``
/// each time it is shown, and nothing once the budget is spent. The template library's string transforms
/// (`uppercased`, `reversed`…) charge the text's size before they run, and give text that is charged the same
/// way when shown.
struct TemplateText: MustacheTransformable, MustacheParent, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String
    let budget: TemplateBudget

    var description: String { budget.charged(value) }
    var debugDescription: String { budget.charged(value.debugDescription) }

    func transform(_ name: String) -> Any? {
        // A transform that makes new text is charged its size before it runs: a section can run it once a round.
        guard name == "empty" || budget.charge(value.utf8.count) else { return nil }
        switch value.transform(name) {
        case let text as String: return TemplateText(value: text, budget: budget)
        case let text as Substring: return TemplateText(value: String(text), budget: budget)
        case let other: return other
        }
    }

    /// Text has no fields (rather than the library reading this type's own).
    func child(named: String) -> Any? { nil }
}
