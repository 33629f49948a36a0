import Mustache

/// A member of a JSON object, as the `sorted` and `enumerated` transforms of a ``TemplateObject`` give it: its
/// `key` and `value`, shown whole as the template library showed the Swift tuples it gave,
/// `(key: "name", value: …)`.
struct TemplateMember: MustacheParent, CustomStringConvertible, CustomDebugStringConvertible {
    let key: TemplateText
    let value: Any

    func child(named name: String) -> Any? {
        switch name {
        case "key": key
        case "value": value
        default: nil
        }
    }

    var description: String { key.budget.charged(TemplateDescription.of(self, quoted: false)) }
    var debugDescription: String { description }
}
