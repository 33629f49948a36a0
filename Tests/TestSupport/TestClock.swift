import Foundation
import Synchronization

/// A clock that tests move by hand, so that expiry is tested without sleeping.
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }

    public var now: Date { current.withLock { $0 } }

    /// The clock as the closure that Hookline's types take.
    public var closure: @Sendable () -> Date { { self.now } }

    public func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
