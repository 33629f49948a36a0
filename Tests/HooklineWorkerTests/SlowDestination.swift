import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A local destination that answers the head at once and then drips its body, one byte every `interval`:
/// the kind of endpoint that must not hold a job (and a worker slot) past its step's timeout.
final class SlowDestination: Sendable {
    let bodyBytes: Int
    let interval: Duration
    private let state = Mutex((requests: 0, bytesSent: 0))

    init(bodyBytes: Int = 60, interval: Duration = .seconds(1)) {
        self.bodyBytes = bodyBytes
        self.interval = interval
    }

    /// Requests received.
    var requests: Int { state.withLock { $0.requests } }
    /// Body bytes written, over every request.
    var bytesSent: Int { state.withLock { $0.bytesSent } }

    /// Runs `body` with the destination listening; its base URL is passed in.
    func serving(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        let answer: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            self.state.withLock { $0.requests += 1 }
            let (count, interval) = (self.bodyBytes, self.interval)
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: ResponseBody(contentLength: count) { writer in
                    for _ in 0..<count {
                        try await writer.write(ByteBuffer(string: "x"))
                        self.state.withLock { $0.bytesSent += 1 }
                        try await Task.sleep(for: interval)
                    }
                    try await writer.finish(nil)
                })
        }
        router.on("{path+}", method: .get, use: answer)
        router.on("{path+}", method: .post, use: answer)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }
}
