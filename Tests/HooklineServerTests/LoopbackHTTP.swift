import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Many concurrent requests to a server under test, over real sockets (the test client of Hummingbird
/// sends one at a time).
struct LoopbackHTTP {
    let port: Int
    let client: HTTPClient

    /// A response's status and JSON body.
    struct Answer: Sendable {
        var status: UInt
        var body: Data
        var headers: HTTPHeaders

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var jobID: Int64? { (json["job_id"] as? NSNumber)?.int64Value }
        var accessToken: String? { json["access_token"] as? String }
        var error: String? { json["error"] as? String }
    }

    /// Runs `body` with a client of up to `connections` connections, and shuts it down after.
    static func with<T>(port: Int, connections: Int = 64, _ body: (LoopbackHTTP) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        // Waiting for a free connection counts against the connect timeout: on a loaded machine, hundreds of
        // requests over a few dozen connections wait longer than the default 10 s.
        configuration.timeout.connect = .seconds(60)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let value = try await body(LoopbackHTTP(port: port, client: client))
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// POSTs `body` to `path`.
    func post(
        _ path: String, _ body: HTTPClientRequest.Body, headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = body
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: response.status.code, body: Data(buffer: bytes), headers: response.headers)
    }

    /// The request-body bytes the server holds now, from its `hookline_body_buffered_bytes` gauge.
    func bufferedBytes() async throws -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics")
        request.method = .GET
        let response = try await client.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let line = text.split(separator: "\n").first { $0.hasPrefix("hookline_body_buffered_bytes ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }

    /// POSTs a string.
    func post(_ path: String, _ text: String, headers: [(String, String)] = []) async throws -> Answer {
        try await post(path, .bytes(ByteBuffer(string: text)), headers: headers)
    }
}
