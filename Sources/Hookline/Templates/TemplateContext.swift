/// What a step's templates see (`payload`, `steps`, `headers`, `account_id`, `job_id`), as values that
/// charge the ``TemplateBudget`` the step's templates share.
public struct TemplateContext {
    let values: [String: Any]
    let budget: TemplateBudget

    /// `values` for templates; a null one shows as empty text.
    public init(_ values: [String: JSON], budget: TemplateBudget = TemplateBudget()) {
        self.budget = budget
        self.values = values.mapValues { $0.templateValue(charging: budget) ?? TemplateText(value: "", budget: budget) }
    }
}

extension JSON {
    /// The value as templates see it: objects as ``TemplateObject`` (without their nulls), arrays as
    /// ``TemplateList``, strings as ``TemplateText``, integers as ``TemplateNumber``, and other numbers and
    /// booleans as themselves; nil for null.
    func templateValue(charging budget: TemplateBudget) -> Any? {
        switch self {
        case .null: nil
        case .bool(let value): value
        case .int(let value): TemplateNumber(value: value)
        case .double(let value): value
        case .string(let value): TemplateText(value: value, budget: budget)
        case .array(let items):
            TemplateList(
                elements: items.map { $0.templateValue(charging: budget) ?? TemplateText(value: "", budget: budget) },
                budget: budget)
        case .object(let fields):
            TemplateObject(fields: fields.compactMapValues { $0.templateValue(charging: budget) }, budget: budget)
        }
    }
}
