import Foundation
import Logging
import MCP

/// A session's transport as its SDK server sees it: the SDK's Streamable HTTP transport, with every message
/// the server sends charged to the session's byte budget before that transport keeps it (it keeps every
/// message, for replay, until the session ends). Once the budget is spent, a message is not kept or sent,
/// and the session ends (``MCPSessions``): answers that all come at once, to calls admitted on what was
/// counted before them, cannot fill the transport past the budget by more than the one that crossed it.
actor MeteredTransport: Transport {
    let inner: StatefulHTTPServerTransport
    nonisolated let logger: Logger
    private let incoming: AsyncThrowingStream<Data, Swift.Error>
    /// Charges a message's bytes; false when the budget was already spent (then the message is dropped).
    private let charge: @Sendable (Int) async -> Bool

    private init(
        inner: StatefulHTTPServerTransport, incoming: AsyncThrowingStream<Data, Swift.Error>,
        charge: @escaping @Sendable (Int) async -> Bool
    ) {
        self.inner = inner
        self.logger = inner.logger
        self.incoming = incoming
        self.charge = charge
    }

    /// `inner`, metered through `charge`.
    static func wrapping(_ inner: StatefulHTTPServerTransport, charge: @escaping @Sendable (Int) async -> Bool)
        async -> MeteredTransport
    {
        MeteredTransport(inner: inner, incoming: await inner.receive(), charge: charge)
    }

    func connect() async throws { try await inner.connect() }

    func disconnect() async { await inner.disconnect() }

    func send(_ data: Data) async throws {
        guard await charge(data.count) else { throw MCPError.connectionClosed }
        try await inner.send(data)
    }

    func receive() -> AsyncThrowingStream<Data, Swift.Error> { incoming }
}
