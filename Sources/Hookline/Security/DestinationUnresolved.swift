/// A destination's host name did not resolve: no such name, or no answer from the resolver. Unlike a
/// ``DestinationRefused``, a later try may succeed (a resolver back up, a record just added).
public struct DestinationUnresolved: Error, CustomStringConvertible {
    public var host: String
    public var reason: String
    public init(host: String, reason: String) {
        self.host = host
        self.reason = reason
    }
    public var description: String { "\(host) does not resolve: \(reason)" }
}
