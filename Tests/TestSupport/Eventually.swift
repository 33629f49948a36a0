import Testing

/// Polls `condition` every 20 ms for up to `timeout`; records an issue if it never holds.
public func eventually(
    within timeout: Duration = .seconds(1), _ condition: () async throws -> Bool,
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
