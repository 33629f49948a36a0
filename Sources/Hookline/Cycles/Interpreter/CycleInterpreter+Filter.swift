import Foundation

extension CycleInterpreter {
    /// A `filter` step: the run's end (`filtered`) when the job does not match, else nil to go on.
    mutating func filter(_ step: CycleDefinition.Step, _ filter: CycleDefinition.Filter, at index: Int, started: Date)
        -> JobResult?
    {
        guard matches(filter) else {
            pending.append(record(step, started: started, outcome: .filtered))
            return .completed(outcome: .filtered, checkpoint: checkpoint(next: index), runs: pending)
        }
        outputs[step.id] = .object(["matched": .bool(true)])
        pending.append(record(step, started: started, outcome: .succeeded))
        return nil
    }

    func matches(_ filter: CycleDefinition.Filter) -> Bool {
        let value = filter.pointer.resolve(in: source(filter.source))
        switch filter.condition {
        case .exists(let wanted): return (value != nil && value != .null) == wanted
        case .equals(let expected): return value.map { $0.sameValue(as: expected) } ?? false
        case .notEquals(let expected): return !(value.map { $0.sameValue(as: expected) } ?? false)
        case .oneOf(let list): return value.map { value in list.contains { value.sameValue(as: $0) } } ?? false
        case .greaterThan(let bound): return number(value).map { $0 > bound } ?? false
        case .greaterThanOrEqual(let bound): return number(value).map { $0 >= bound } ?? false
        case .lessThan(let bound): return number(value).map { $0 < bound } ?? false
        case .lessThanOrEqual(let bound): return number(value).map { $0 <= bound } ?? false
        }
    }

    /// A number, or a string that holds one (form fields and many payloads carry numbers as text).
    func number(_ value: JSON?) -> Double? {
        value?.number ?? value?.string.flatMap(Double.init)
    }
}
