/// How a template shows a whole value (`{{payload}}`, `{{payload.items}}`): as Swift prints its arrays and
/// dictionaries, strings quoted inside them, which is what templates showed before their values were wrapped.
/// Built without charging the budget; ``TemplateList`` and ``TemplateObject`` charge the whole text once.
enum TemplateDescription {
    /// `value` as text: a string as it is at the top (`quoted` false), quoted inside an array or object.
    static func of(_ value: Any, quoted: Bool) -> String {
        switch value {
        case let text as TemplateText: quoted ? text.value.debugDescription : text.value
        case let number as TemplateNumber: String(number.value)
        case let list as TemplateList: "[" + list.elements.map { of($0, quoted: true) }.joined(separator: ", ") + "]"
        case let member as TemplateMember:
            "(key: \(of(member.key, quoted: true)), value: \(of(member.value, quoted: true)))"
        case let object as TemplateObject:
            object.fields.isEmpty
                ? "[:]"
                : "["
                    + object.fields.map { "\($0.key.debugDescription): \(of($0.value, quoted: true))" }
                    .joined(separator: ", ") + "]"
        default: quoted ? String(reflecting: value) : String(describing: value)
        }
    }
}
