/// A parser that strangers or tenants feed, under fuzzing: a name (its corpus folder under `Tests/Fuzz/Corpus`)
/// and a check that runs one input through the parser and tests the properties its results must have.
///
/// `scripts/fuzz` runs each check under libFuzzer with the address sanitizer; the tests replay the committed
/// corpus through them. A crash is a failure, and so is a broken property: `check` then says which.
package struct FuzzTarget: Sendable {
    package let name: String
    /// Runs one input: `nil` when every property held, else what went wrong.
    package let check: @Sendable ([UInt8]) -> String?

    package init(name: String, check: @escaping @Sendable ([UInt8]) -> String?) {
        self.name = name
        self.check = check
    }

    /// Every target, in the order `scripts/fuzz` runs them.
    package static let all: [FuzzTarget] = [
        .signatures, .formBody, .basicCredentials, .json, .jsonPointer, .template, .cycleDefinition, .cidr,
        .forwardedFor,
    ]

    package static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
