import Mustache

/// A JSON array as templates see it: a section over it renders once per element, and each round charges its
/// step's ``TemplateBudget`` (``TemplateBudget/perRound``); once the budget is spent, the rounds stop. Shown
/// whole, it charges the text it shows. Its transforms are the template library's for arrays (`first`,
/// `last`, `reversed`, `count`, `empty`).
struct TemplateList: MustacheSequence, MustacheTransformable, MustacheParent, CustomStringConvertible,
    CustomDebugStringConvertible
{
    let elements: [Any]
    let budget: TemplateBudget

    struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[Any]>
        let budget: TemplateBudget

        mutating func next() -> Any? {
            guard budget.charge(budget.perRound) else { return nil }
            return base.next()
        }
    }

    func makeIterator() -> Iterator { Iterator(base: elements.makeIterator(), budget: budget) }

    var description: String { budget.charged(TemplateDescription.of(self, quoted: false)) }
    var debugDescription: String { description }

    func transform(_ name: String) -> Any? {
        switch name {
        case "first": elements.first
        case "last": elements.last
        case "reversed":
            budget.charge(elements.count) ? TemplateList(elements: elements.reversed(), budget: budget) : nil
        case "count": TemplateNumber(value: Int64(elements.count))
        case "empty": elements.isEmpty
        default: nil
        }
    }

    /// An array has no named fields (rather than the library reading this type's own).
    func child(named: String) -> Any? { nil }
}
