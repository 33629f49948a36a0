import Mustache

/// A JSON array as templates see it: a section over it renders once per element, and each round charges its
/// step's ``TemplateBudget`` the length of the template being rendered; once the budget is spent, the rounds
/// stop. Its transforms are the template library's for arrays (`first`, `last`, `reversed`, `count`,
/// `empty`).
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

    var description: String { elements.description }
    var debugDescription: String { elements.debugDescription }

    func transform(_ name: String) -> Any? {
        switch name {
        case "first": elements.first
        case "last": elements.last
        case "reversed": TemplateList(elements: elements.reversed(), budget: budget)
        case "count": TemplateNumber(value: Int64(elements.count))
        case "empty": elements.isEmpty
        default: nil
        }
    }

    /// An array has no named fields (rather than the library reading this type's own).
    func child(named: String) -> Any? { nil }
}
