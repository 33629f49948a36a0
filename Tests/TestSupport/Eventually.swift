import Testing

/// Polls `condition` every 20 ms for up to `timeout`; records an issue if it never holds.
///
/// The default is generous: it waits for what happens as a consequence (a notification evicting a cache, a
/// process starting), which under the full suite's parallel load has taken over a second. A test whose
/// contract is a time bound states it: `within:` that bound, or a clock checked afterwards.
public func eventually(
    within timeout: Duration = .seconds(10), _ condition: () async throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition did not hold within \(timeout)", sourceLocation: sourceLocation)
}
