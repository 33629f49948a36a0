/// A destination's host name did not resolve: no such name, or no answer from the resolver. Unlike a
/// ``DestinationRefused``, a later try may succeed (a resolver back up, a record just added).
public struct DestinationUnresolved: Error, CustomStringConvertible {
    public var host: String
    public var reason: String
    public var description: String { "\(host) does not resolve: \(reason)" }
}
