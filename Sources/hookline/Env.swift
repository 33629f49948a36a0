import ArgumentParser
import Foundation

/// Settings read from the environment when their flag is absent.
enum Env {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    static func integer(_ name: String) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name) must be an integer, not \(text)") }
        return value
    }

    /// Sets `target`'s `key` from `flag`, else from the variable `name`, through `convert`; leaves it as it
    /// is when neither is given.
    static func set<Target, Value>(
        _ target: inout Target, _ key: WritableKeyPath<Target, Value>, _ flag: Int?, _ name: String,
        _ convert: (Int) -> Value
    ) throws {
        if let given = try flag ?? integer(name) { target[keyPath: key] = convert(given) }
    }

    /// Sets the whole number `key` of `target` from `flag`, else from the variable `name`.
    static func set<Target>(
        _ target: inout Target, _ key: WritableKeyPath<Target, Int>, _ flag: Int?, _ name: String
    ) throws {
        try set(&target, key, flag, name) { $0 }
    }

    /// A list from its repeatable flag, else from the comma-separated variable `name`.
    static func list(_ flag: [String], _ name: String) -> [String] {
        // "a, b" is two entries, "a" and "b": a space after a comma would otherwise be part of the next one
        // (an origin that never matches, a proxy address that does not parse).
        flag.isEmpty
            ? (string(name)?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            } ?? []) : flag
    }

    /// A switch: `on`, `1`, `true` or `yes` turn it on, `off`, `0`, `false` or `no` off (in any case); unset is
    /// nil, and anything else is refused rather than read as either.
    static func onOff(_ name: String) throws -> Bool? {
        guard let text = string(name) else { return nil }
        switch text.lowercased() {
        case "on", "1", "true", "yes": return true
        case "off", "0", "false", "no": return false
        default: throw ValidationError("\(name) must be on or off (or 1/0, true/false, yes/no), not \(text)")
        }
    }
}

extension ArgumentHelp {
    /// The help of a setting that the environment variable `name` may give instead of the flag.
    static func setting(_ text: String, env name: String, unit: String) -> ArgumentHelp {
        ArgumentHelp("\(text) (env: \(name)).", valueName: unit)
    }
}
