import AsyncHTTPClient
import Foundation
import Hookline
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Makes `http` steps' calls: checks the destination, sends the request through AsyncHTTPClient (redirects
/// are not followed: a redirect could lead anywhere), and sorts the answer into success, a retryable failure
/// (408, 429, 5xx, connection errors, timeouts and host names that do not resolve, with `Retry-After`
/// honoured) or a permanent one (other 4xx, 3xx, a refused destination, a header value that cannot be sent).
/// Errors name the method and host, never the URL's path and query nor a header's value, which may hold the
/// destination's credentials.
///
/// The step's timeout bounds the whole call, from connecting to the last byte of the body: AsyncHTTPClient's
/// deadline ends when the response head arrives, so the body is read under a timer of our own, and a
/// destination that sends its head at once and then a byte a second cannot hold a job (and a worker slot).
public final class HTTPCaller: Service, Sendable {
    /// For destinations given as addresses.
    let client: HTTPClient
    /// For destinations given by name: each connects the name to the address the guard checked.
    let pinned: PinnedHTTPClients
    let destinations: DestinationGuard
    /// The threads that resolve destinations (`getaddrinfo` blocks): a pool of this caller's own, so that slow
    /// DNS behind one tenant's destinations cannot hold the threads every other blocking task of the process
    /// needs, and sized so that it takes many slow look-ups at once to make the others wait (each waits within
    /// its step's timeout).
    let resolvers: NIOThreadPool
    /// How many destination look-ups run at once unless told otherwise (``WorkerSettings/dnsConcurrency``).
    public static let defaultResolverThreads = 64
    /// The most of a response body kept as the step's output.
    static let maxBodyBytes = 1 << 20

    /// - Parameter resolverThreads: How many destination look-ups run at once.
    public convenience init(allowPrivateDestinations: Bool, resolverThreads: Int = defaultResolverThreads) {
        self.init(
            destinations: DestinationGuard(allowPrivate: allowPrivateDestinations), resolverThreads: resolverThreads)
    }

    /// A caller whose destinations `destinations` checks (and resolves).
    package init(destinations: DestinationGuard, resolverThreads: Int = defaultResolverThreads) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)))
        configuration.decompression = .enabled(limit: .ratio(20))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        pinned = PinnedHTTPClients(configuration: configuration)
        self.destinations = destinations
        resolvers = NIOThreadPool(numberOfThreads: resolverThreads)
        resolvers.start()
    }

    public func shutdown() async throws {
        await pinned.shutdown()
        try await client.shutdown()
        try await resolvers.shutdownGracefully()
    }

    /// As a service (listed before the worker that uses it): shuts down once graceful shutdown reaches it,
    /// after the worker has drained. Cancelled instead (its group failed), it returns and leaves the client to
    /// its owner, since the worker may still be finishing calls.
    public func run() async throws {
        do { try await gracefulShutdown() } catch { return }
        try await shutdown()
    }

    /// Makes the call; its answer when 2xx.
    /// - Throws: ``StepFailure`` for any other answer, a refused destination, an error or the timeout.
    func call(_ outbound: OutboundRequest) async throws -> OutboundResponse {
        let (method, url, timeout) = (outbound.method, outbound.url, outbound.timeoutSeconds)
        guard let parsed = URL(string: url), parsed.host != nil else {
            throw StepFailure(message: "the url did not render as a URL with a host", permanent: true)
        }
        if let header = outbound.headers.first(where: { !Self.canSend($0.value) }) {
            throw StepFailure(
                message: "the \(header.name) header's value has a line break or another control character (not sent)",
                permanent: true)
        }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for header in outbound.headers { request.headers.add(name: header.name, value: header.value) }
        if let body = outbound.body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let host = parsed.host ?? url
        let sending = request
        do {
            // The timeout covers the destination's look-up too.
            return try await Self.bounded(seconds: timeout) {
                let addresses = try await self.check(parsed)
                let exchange = { (client: HTTPClient) in
                    try await self.exchange(sending, on: client, method: method, host: host, timeout: timeout)
                }
                // A name is connected to the first address checked, never resolved again (DNS rebinding); an
                // address is its own (the guard gives it back alone).
                guard let address = addresses.first, addresses != [Self.unbracketed(host)] else {
                    return try await exchange(self.client)
                }
                return try await self.pinned.with(host: host, address: address, exchange)
            }
        } catch is TimedOut {
            try Task.checkCancellation()
            throw StepFailure(message: Self.timedOut(method, host, timeout), permanent: false)
        }
    }

    /// Refuses a destination the guard does not allow, resolving its host on ``resolvers``; the addresses it
    /// checked.
    private func check(_ url: URL) async throws -> [String] {
        let destinations = destinations
        do {
            return try await resolvers.runIfActive { try destinations.check(url) }
        } catch let refusal as DestinationRefused {
            throw StepFailure(message: refusal.description, permanent: true)
        } catch let unresolved as DestinationUnresolved {
            throw StepFailure(message: unresolved.description, permanent: false)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw StepFailure(message: DestinationRefused(reason: "\(error)").description, permanent: true)
        }
    }

    /// Sends the request and reads the answer to its last byte (1 MiB of body kept at most), then sorts it.
    private func exchange(
        _ request: HTTPClientRequest, on client: HTTPClient, method: String, host: String, timeout: Double
    ) async throws -> OutboundResponse {
        let response: HTTPClientResponse
        var collected = ByteBuffer()
        var truncated = false
        do {
            response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            for try await var chunk in response.body {
                let room = Self.maxBodyBytes - collected.readableBytes
                if chunk.readableBytes > room {
                    truncated = true
                    if room > 0, let slice = chunk.readSlice(length: room) { collected.writeImmutableBuffer(slice) }
                    break
                }
                collected.writeBuffer(&chunk)
            }
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            if let error = error as? HTTPClientError, error == .deadlineExceeded {
                throw StepFailure(message: Self.timedOut(method, host, timeout), permanent: false)
            }
            throw StepFailure(message: "\(method) \(host): \(Self.describe(error))", permanent: false)
        }
        let status = Int(response.status.code)
        var fields: [String: JSON] = [:]
        for header in response.headers {
            let name = header.name.lowercased()
            fields[name] = .string(fields[name]?.string.map { "\($0), \(header.value)" } ?? header.value)
        }
        let bytes = Array(collected.readableBytesView)
        let bodyJSON = (try? JSON(parsing: bytes)) ?? .string(String(decoding: bytes, as: UTF8.self))
        var object: [String: JSON] = ["status": .int(Int64(status)), "headers": .object(fields), "body": bodyJSON]
        if truncated { object["body_truncated"] = .bool(true) }
        let output = JSON.object(object)
        switch status {
        case 200..<300:
            return OutboundResponse(status: status, output: output)
        case 408, 429, 500..<600:
            throw StepFailure(
                message: "\(method) \(host) answered \(status)", permanent: false,
                retryAfter: response.headers.first(name: "retry-after").flatMap(Self.retryAfter), httpStatus: status,
                output: output)
        case 300..<400:
            throw StepFailure(
                message: "\(method) \(host) answered \(status) (redirects are not followed)",
                permanent: true, httpStatus: status, output: output)
        default:
            throw StepFailure(
                message: "\(method) \(host) answered \(status)", permanent: true, httpStatus: status, output: output)
        }
    }

    /// The call ran out of its step's `timeout_seconds`.
    private struct TimedOut: Error {}

    /// `body`'s result, unless `seconds` pass first: then `body` is cancelled (AsyncHTTPClient closes the
    /// connection) and ``TimedOut`` is thrown.
    static func bounded<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            guard let value = try await group.next() ?? nil else { throw TimedOut() }
            return value
        }
    }

    static func timedOut(_ method: String, _ host: String, _ seconds: Double) -> String {
        let shown = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        return "\(method) \(host) timed out after \(shown) s (timeout_seconds bounds the whole call, to the last byte)"
    }

    /// `Retry-After` in seconds from now: delay-seconds or an HTTP date.
    static func retryAfter(_ value: String) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text).map { max(0, $0.timeIntervalSinceNow) }
    }

    /// A host without the brackets of an IPv6 address.
    static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// Whether a header value can be sent as it is: no control character but horizontal tab (RFC 9110 §5.5).
    static func canSend(_ value: String) -> Bool {
        !value.utf8.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .readTimeout, .connectTimeout: return "timed out"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
