import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A local HTTP server that `http` steps call: it records every request and answers as the test scripts.
final class Receiver: Sendable {
    struct Received: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: String
    }

    /// The answer to the `count`-th request (from 1) to `path`: status, headers, body.
    typealias Script = @Sendable (_ path: String, _ count: Int) -> (Int, [String: String], String)

    private let received = Mutex([Received]())
    private let script: Script

    init(script: @escaping Script = { _, _ in (200, ["Content-Type": "application/json"], #"{"ok":true}"#) }) {
        self.script = script
    }

    var requests: [Received] { received.withLock { $0 } }

    func requests(to path: String) -> [Received] { requests.filter { $0.path == path } }

    /// Runs `body` with the receiver listening; its base URL is passed in.
    func serving(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.on("{path+}", method: .post) { request, context in try await self.answer(request, context) }
        router.on("{path+}", method: .put) { request, context in try await self.answer(request, context) }
        router.on("{path+}", method: .get) { request, context in try await self.answer(request, context) }
        router.on("{path+}", method: .patch) { request, context in try await self.answer(request, context) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }

    private func answer(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        // HTTPTypes keeps the Host header as the request's authority.
        if let authority = request.head.authority { headers["host"] = authority }
        let path = request.uri.path
        let count = received.withLock { list in
            list.append(
                Received(
                    method: request.method.rawValue, path: path, headers: headers, body: String(buffer: body)))
            return list.filter { $0.path == path }.count
        }
        let (status, responseHeaders, text) = script(path, count)
        var fields = HTTPFields()
        for (name, value) in responseHeaders { fields[HTTPField.Name(name)!] = value }
        return Response(
            status: .init(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
