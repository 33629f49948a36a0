import Mustache

/// A JSON string as templates see it: shown as itself, charging its size to its step's ``TemplateBudget``
/// each time it is shown, and nothing once the budget is spent. The template library's string transforms
/// (`uppercased`, `reversed`…) give text that is charged the same way.
struct TemplateText: MustacheTransformable, MustacheParent, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String
    let budget: TemplateBudget

    var description: String { budget.charge(value.utf8.count) ? value : "" }
    /// How the text shows inside a whole array or object (`{{payload}}`): quoted, as Swift shows strings.
    var debugDescription: String {
        let quoted = value.debugDescription
        return budget.charge(quoted.utf8.count) ? quoted : ""
    }

    func transform(_ name: String) -> Any? {
        switch value.transform(name) {
        case let text as String: TemplateText(value: text, budget: budget)
        case let text as Substring: TemplateText(value: String(text), budget: budget)
        case let other: other
        }
    }

    /// Text has no fields (rather than the library reading this type's own).
    func child(named: String) -> Any? { nil }
}
