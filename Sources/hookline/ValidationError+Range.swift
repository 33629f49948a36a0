import ArgumentParser

extension ValidationError {
    /// Throws "`flag` must be from … to …" unless `value` is in `range`: settings get upper bounds as well as
    /// floors, since past them a value is a mistake, and some would overflow or start a thread or connection
    /// for each unit.
    static func check(_ value: Int, in range: ClosedRange<Int>, _ flag: String) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be from \(range.lowerBound) to \(range.upperBound)")
        }
    }
}
