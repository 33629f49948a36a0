import Mustache

/// A JSON object as templates see it: its members by name, and shown whole (`{{payload}}`) as one text
/// charged to its step's ``TemplateBudget``. Its transforms are the template library's for dictionaries
/// (`count`, `empty`, and `enumerated` and `sorted`, which give its members as a ``TemplateList`` of
/// ``TemplateMember``s, so that sections over them are charged like any other).
struct TemplateObject: MustacheTransformable, MustacheParent, CustomStringConvertible, CustomDebugStringConvertible {
    let fields: [String: Any]
    let budget: TemplateBudget

    func child(named name: String) -> Any? { fields[name] }

    var description: String { budget.charged(TemplateDescription.of(self, quoted: false)) }
    var debugDescription: String { description }

    func transform(_ name: String) -> Any? {
        switch name {
        case "count": return TemplateNumber(value: Int64(fields.count))
        case "empty": return fields.isEmpty
        case "enumerated", "sorted":
            guard budget.charge(fields.count) else { return nil }
            let members = name == "sorted" ? fields.sorted { $0.key < $1.key } : Array(fields)
            return TemplateList(
                elements: members.map {
                    TemplateMember(key: TemplateText(value: $0.key, budget: budget), value: $0.value)
                },
                budget: budget)
        default: return nil
        }
    }
}
