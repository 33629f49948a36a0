import Mustache

/// A JSON integer as templates see it: shown as its digits, with the template library's integer transforms
/// (`plusone`, `minusone`, `even`, `odd`, `equalzero`), of which `plusone` and `minusone` past the ends of a
/// 64-bit integer give nothing (a transform that does not apply) where the library's own trap, ending the
/// worker process.
struct TemplateNumber: MustacheTransformable, MustacheParent, CustomStringConvertible, CustomDebugStringConvertible {
    let value: Int64

    var description: String { String(value) }
    var debugDescription: String { description }

    func transform(_ name: String) -> Any? {
        switch name {
        case "plusone":
            let (sum, overflow) = value.addingReportingOverflow(1)
            return overflow ? nil : TemplateNumber(value: sum)
        case "minusone":
            let (difference, overflow) = value.subtractingReportingOverflow(1)
            return overflow ? nil : TemplateNumber(value: difference)
        default:
            return value.transform(name)
        }
    }

    /// A number has no fields (rather than the library reading this type's own).
    func child(named: String) -> Any? { nil }
}
