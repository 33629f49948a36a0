import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// MCP's Streamable HTTP transport spoken with plain HTTP requests (not the SDK's client), to test what
/// `/mcp/{id}` answers on the wire.
struct MCPClient: Sendable {
    let http: HTTPClient
    let port: Int
    /// `/mcp/<id>`.
    var path: String
    var token: String? = nil
    var origin: String? = nil
    /// Set by ``initialize()``; sent with every request after it.
    var sessionID: String? = nil

    /// One HTTP answer.
    struct Reply: Sendable {
        var status: UInt
        var headers: HTTPHeaders
        var body: Data

        var text: String { String(decoding: body, as: UTF8.self) }
        var sessionID: String? { headers.first(name: "Mcp-Session-Id") }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        /// The JSON-RPC messages: the `data:` lines of an event stream, or the body when it is JSON.
        var messages: [[String: Any]] {
            if headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true {
                return dataLines(text).compactMap(jsonObject)
            }
            return jsonObject(text).map { [$0] } ?? []
        }
        /// The `result` of the JSON-RPC response.
        var result: [String: Any]? { messages.lazy.compactMap { $0["result"] as? [String: Any] }.first }
    }

    /// Runs `body` with an HTTP client of its own, shut down afterwards.
    static func withHTTP<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration()
        // A stream that stops talking fails the test instead of hanging it.
        configuration.timeout.read = .seconds(20)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let value = try await body(http)
            try await http.shutdown()
            return value
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    func send(_ method: HTTPMethod, body: String? = nil, headers extra: [(String, String)] = []) async throws -> Reply {
        let response = try await http.execute(prepare(method, body: body, headers: extra), timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 4 << 20)
        return Reply(status: response.status.code, headers: response.headers, body: Data(buffer: bytes))
    }

    /// POSTs one JSON-RPC request.
    func request(_ method: String, id: Int, params: [String: Any] = [:]) async throws -> Reply {
        try await send(.POST, body: Self.encode(["jsonrpc": "2.0", "id": id, "method": method, "params": params]))
    }

    /// POSTs one JSON-RPC notification.
    func notify(_ method: String) async throws -> Reply {
        try await send(.POST, body: Self.encode(["jsonrpc": "2.0", "method": method]))
    }

    /// Calls a tool; the reply's `result` is the tool result.
    func callTool(_ name: String, id: Int, arguments: [String: Any]) async throws -> Reply {
        try await request("tools/call", id: id, params: ["name": name, "arguments": arguments])
    }

    /// `initialize`, then (when it succeeded) `notifications/initialized`; keeps the session id.
    @discardableResult
    mutating func initialize() async throws -> Reply {
        let reply = try await request(
            "initialize", id: 1,
            params: [
                "protocolVersion": "2025-06-18", "capabilities": [String: Any](),
                "clientInfo": ["name": "t", "version": "1"],
            ])
        guard reply.status == 200, let id = reply.sessionID else { return reply }
        sessionID = id
        let initialized = try await notify("notifications/initialized")
        guard initialized.status == 202 else { throw Unexpected.status(initialized.status, initialized.text) }
        return reply
    }

    /// Ends the session.
    func delete() async throws -> Reply { try await send(.DELETE) }

    /// Opens the session's event stream (GET); its events are read in the background until it ends.
    func openEventStream(headers extra: [(String, String)] = []) async throws -> EventStream {
        var request = prepare(.GET, headers: extra)
        request.headers.replaceOrAdd(name: "Accept", value: "text/event-stream")
        let response = try await http.execute(request, timeout: .seconds(20))
        let stream = EventStream(status: response.status.code)
        let body = response.body
        Task { await stream.read(body) }
        return stream
    }

    private func prepare(_ method: HTTPMethod, body: String? = nil, headers extra: [(String, String)] = [])
        -> HTTPClientRequest
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        if let sessionID {
            request.headers.add(name: "Mcp-Session-Id", value: sessionID)
            request.headers.add(name: "MCP-Protocol-Version", value: "2025-06-18")
        }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let origin { request.headers.add(name: "Origin", value: origin) }
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        return request
    }

    static func encode(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    enum Unexpected: Error { case status(UInt, String) }
}

/// A session's GET event stream, read as it comes.
final class EventStream: Sendable {
    let status: UInt
    private let state = Mutex((text: "", ended: false))

    init(status: UInt) { self.status = status }

    /// The JSON-RPC messages received so far.
    var messages: [[String: Any]] { dataLines(state.withLock { $0.text }).compactMap(jsonObject) }
    /// The methods of the notifications received so far.
    var methods: [String] { messages.compactMap { $0["method"] as? String } }
    /// Whether the server ended the stream.
    var ended: Bool { state.withLock { $0.ended } }
    /// The ids of the events received so far (the priming event's, for a resumption).
    var eventIDs: [String] {
        state.withLock { $0.text }.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map {
            String($0.dropFirst(4))
        }
    }

    fileprivate func read(_ body: HTTPClientResponse.Body) async {
        do {
            for try await chunk in body { state.withLock { $0.text += String(buffer: chunk) } }
        } catch {}
        state.withLock { $0.ended = true }
    }
}

/// The `data:` field of each event of an event stream (an event's lines joined), empty ones left out.
private func dataLines(_ text: String) -> [String] {
    text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n").compactMap { event in
        let data = event.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0.hasPrefix("data:") }
            .map { line in
                let value = line.dropFirst(5)
                return value.first == " " ? String(value.dropFirst()) : String(value)
            }
            .joined(separator: "\n")
        return data.isEmpty ? nil : data
    }
}

private func jsonObject(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}
