import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A local destination that holds each request until the test lets it through: the `n`-th request (from 1)
/// is answered 200 once ``letThrough(_:)`` has been given `n` or more.
final class GatedDestination: Sendable {
    private let state = Mutex((received: 0, allowed: 0))

    /// Requests received, answered or not.
    var received: Int { state.withLock { $0.received } }

    /// Lets the first `count` requests be answered, those waiting and those to come.
    func letThrough(_ count: Int) { state.withLock { $0.allowed = max($0.allowed, count) } }

    /// Runs `body` with the destination listening; its base URL is passed in. Every request is let through
    /// when `body` ends, so that none is left waiting.
    func serving(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.on("{path+}", method: .post) { _, _ -> Response in
            let number = self.state.withLock { state in
                state.received += 1
                return state.received
            }
            while self.state.withLock({ $0.allowed < number }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"request":\#(number)}"#)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            defer { self.letThrough(.max) }
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }
}
