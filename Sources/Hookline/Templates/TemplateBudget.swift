/// How many bytes a step's templates may still render, shared by every template of the step and by the
/// values they read (see ``TemplateContext``).
///
/// The template library renders with no bound of its own: sections nested over one array multiply (three
/// over 100,000 items are 10¹⁵ rounds), and a section can repeat a large value once per item. So every text,
/// array or object a template shows charges the size of what it shows (``TemplateText``, ``TemplateList``,
/// ``TemplateObject``), a transform of one charges its size before it runs, and every round of a section
/// charges the length of the template's longest section, at least the literal text one round adds. Once
/// spent, sections stop and values show nothing, and the render throws ``Exceeded``. Numbers and booleans are
/// not charged: shown, they are a few characters, within a small factor of the tag that shows them. So the
/// output, and the work of making it, stay within a small multiple of the budget.
public final class TemplateBudget {
    /// A template would have rendered past the budget.
    public struct Exceeded: Error, CustomStringConvertible {
        public let limit: Int
        public var description: String {
            "its templates would render more than \(limit) bytes (hookline work --max-template-bytes)"
        }
    }

    /// The default of ``WorkerSettings``' `--max-template-bytes`: 16 MiB.
    public static let defaultLimit = 16 << 20

    let limit: Int
    private var remaining: Int
    /// What one round of a section charges: the length of the longest section of the template being rendered.
    var perRound = 0

    public init(limit: Int = TemplateBudget.defaultLimit) {
        self.limit = limit
        remaining = limit
    }

    var isSpent: Bool { remaining < 0 }

    /// Charges `bytes`; false once the budget is spent.
    func charge(_ bytes: Int) -> Bool {
        remaining -= bytes
        return remaining >= 0
    }

    /// `text`, charged; empty once the budget is spent (then `text` is not even made).
    func charged(_ text: @autoclosure () -> String) -> String {
        guard !isSpent else { return "" }
        let made = text()
        return charge(made.utf8.count) ? made : ""
    }

    /// Throws ``Exceeded`` once the budget is spent.
    func check() throws(Exceeded) {
        if isSpent { throw Exceeded(limit: limit) }
    }
}
