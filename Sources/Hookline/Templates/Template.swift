import Mustache

/// A Mustache template over a job's values (`payload`, `steps.<id>`, `headers`, `account_id`, `job_id`),
/// rendered as plain text: nothing is HTML-escaped, since templates build URLs, headers and JSON strings.
/// What it may render is bounded by its ``TemplateContext``'s budget.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    private let template: MustacheTemplate?
    /// What one round of a section charges the budget: the length of the longest section's body, at least the
    /// literal text any round adds (``TemplateBudget/perRound``).
    private let roundLength: Int

    /// - Throws: ``TemplateError`` when the text is not a valid Mustache template.
    public init(_ text: String) throws {
        description = text
        roundLength = TemplateTags.longestSection(text)
        if let tag = TemplateTags.unsupported(text) {
            throw TemplateError(message: "\(tag)…}} tags are not supported (partials, parents and blocks)")
        }
        if text.contains("{{") {
            let pragma = "{{% CONTENT_TYPE: TEXT}}"
            do {
                template = try MustacheTemplate(string: pragma + text)
            } catch let error as MustacheTemplate.ParserError {
                let column =
                    error.context.lineNumber == 1
                    ? error.context.columnNumber - pragma.count : error.context.columnNumber
                throw TemplateError(message: "\(error.error) at line \(error.context.lineNumber), column \(column)")
            } catch {
                throw TemplateError(message: "\(error)")
            }
        } else {
            template = nil
        }
    }

    /// The text, rendered with `context`.
    /// - Throws: ``TemplateBudget/Exceeded`` when it would render past what the context's budget has left.
    public func render(_ context: TemplateContext) throws(TemplateBudget.Exceeded) -> String {
        guard let template else { return description }
        let budget = context.budget
        budget.perRound = roundLength
        guard budget.charge(description.utf8.count) else { throw TemplateBudget.Exceeded(limit: budget.limit) }
        let text = template.render(context.values)
        try budget.check()
        return text
    }

    /// The step ids the template reads through `steps.<id>`.
    public var stepReferences: [String] {
        var ids: [String] = []
        var rest = Substring(description)
        while let range = rest.range(of: "steps.") {
            let after = rest[range.upperBound...]
            let id = after.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
            if !id.isEmpty { ids.append(String(id)) }
            rest = after
        }
        return ids
    }

    public static func == (lhs: Template, rhs: Template) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

public struct TemplateError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
