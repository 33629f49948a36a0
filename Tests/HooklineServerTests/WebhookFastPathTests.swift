import Foundation
import Hookline
import HummingbirdTesting
import TestSupport
import Testing

@testable import HooklineServer

/// `WebhookChannelHandler` answers most deliveries in the channel pipeline and passes the rest to the router: over
/// one raw connection, answers keep the order of requests, and both paths answer alike.
@Suite("The webhook fast path beside the router")
struct WebhookFastPathTests {
    /// Requests for the router and deliveries, pipelined in one write: answered in order, each delivery stored.
    @Test func pipelinedRequestsAreAnsweredInTheirOrderWhicheverPathTakesThem() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let post = Self.post(created.webhook.urlPath, #"{"n":1}"#)
            let sent = try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let sent = try await Self.untilTheFastPathTakes(created.webhook.urlPath, port: port)
                let connection = try RawConnection(port: port)
                let answers = try await Self.answers(
                    connection, sending: post + Self.get("/healthz") + post + post + Self.get("/nowhere") + post,
                    count: 6)
                #expect(answers.map(\.status) == [202, 200, 202, 202, 404, 202])
                let ids = answers.compactMap(\.jobID)
                #expect(ids.count == 4 && ids == ids.sorted() && Set(ids).count == 4, "\(ids)")
                return sent
            }
            #expect(try await fixture.jobCount(created.webhook.id) == sent + 4)
        }
    }

    /// A delivery pipelined after a request that closes the connection is not read: neither stored nor answered,
    /// however the request spells `close` (a case-insensitive token of a list, RFC 9110 §7.6.1).
    @Test(arguments: ["close", "Close", "keep-alive, CLOSE"])
    func nothingAfterARequestThatClosesTheConnectionIsStored(_ connectionHeader: String) async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let sent = try await fixture.application().test(.live) { client in
                let port = try #require(client.port)
                let sent = try await Self.untilTheFastPathTakes(created.webhook.urlPath, port: port)
                let connection = try RawConnection(port: port)
                connection.send(
                    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: \(connectionHeader)\r\n\r\n"
                        + Self.post(created.webhook.urlPath, "{}"))
                let text = try await onOwnThread { connection.readUntilClosed(timeout: .seconds(10)) }
                #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2, "one answer: \(text)")
                #expect(connection.isClosedByServer)
                return sent
            }
            #expect(try await fixture.jobCount(created.webhook.id) == sent)
        }
    }

    /// A request the caches can admit, first on a connection, takes the fast path; the same request behind a
    /// `GET` goes to the router.
    /// Their answers have the same status, headers and body shape, for a delivery and for each kind of refusal.
    @Test func theFastPathAndTheRouterAnswerAlike() async throws {
        try await ServerFixture.run { fixture in
            let (open, _, _) = try await fixture.webhook(.none)
            let (bearer, _, _) = try await fixture.webhook(.bearer)
            let requests = [
                Self.post(open.webhook.urlPath, "{}"),
                Self.post("/webhooks/\(UUID().lowercased)", "{}"),
                Self.post("/webhooks/not-a-uuid", "{}"),
                Self.post(bearer.webhook.urlPath, "{}"),
                Self.post(bearer.webhook.urlPath, "{}", headers: "Authorization: Bearer hlt_nope\r\n"),
                Self.post(open.webhook.urlPath, String(repeating: "x", count: 2_000)),
            ]
            try await fixture.application { $0.maxBodyBytes = 1_000 }.test(.live) { client in
                let port = try #require(client.port)
                // Until the caches are served (their LISTEN connection is up) every request goes to the router,
                // and the comparison below would compare the router with itself.
                _ = try await Self.untilTheFastPathTakes(open.webhook.urlPath, port: port)
                for request in requests {
                    // Once first, so that the caches know the webhook (the fast path takes only what they admit).
                    _ = try await Self.answers(try RawConnection(port: port), sending: request, count: 1)
                    let fast = try await Self.answers(try RawConnection(port: port), sending: request, count: 1)
                    let routed = try await Self.answers(
                        try RawConnection(port: port), sending: Self.get("/healthz") + request, count: 2)
                    let (a, b) = (try #require(fast.first), try #require(routed.last))
                    #expect(a.status == b.status, "\(request)")
                    #expect(a.comparableHeaders == b.comparableHeaders, "\(request)")
                    if a.jobID == nil { #expect(a.body == b.body, "\(request)") }
                }
            }
        }
    }

    /// `Connection: close` is honoured; a body over the limit is refused at once, the rest of it dropped, and the
    /// connection serves the next request; an unknown webhook is refused before its body is read.
    @Test func closeIsHonouredAndRefusalsComeBeforeTheBody() async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let sent = try await fixture.application { $0.maxBodyBytes = 1_000 }.test(.live) { client in
                let port = try #require(client.port)
                let sent = try await Self.untilTheFastPathTakes(created.webhook.urlPath, port: port)

                // Sends 1,500 bytes of a chunked body: answered 413 without waiting for the rest; the rest is
                // dropped and the connection goes on.
                let large = try RawConnection(port: port)
                let head =
                    "POST \(created.webhook.urlPath) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                let refused = try await Self.answers(
                    large, sending: head + "5dc\r\n" + String(repeating: "x", count: 1_500) + "\r\n", count: 1)
                #expect(refused.first?.status == 413)
                let next = try await Self.answers(
                    large, sending: "3\r\nabc\r\n0\r\n\r\n" + Self.post(created.webhook.urlPath, "{}"), count: 1)
                #expect(next.first?.status == 202)

                // An unknown webhook: 404 as soon as the head is read, though the body has not come.
                let unknown = try RawConnection(port: port)
                let notFound = try await Self.answers(
                    unknown,
                    sending: "POST /webhooks/\(UUID().lowercased) HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
                    count: 1)
                #expect(notFound.first?.status == 404)
                return sent
            }
            #expect(try await fixture.jobCount(created.webhook.id) == sent + 1)
        }
    }

    /// With `--router-webhooks`, or the access log on (which the router's middleware writes), no delivery takes
    /// the fast path, however long the caches have known the webhook.
    @Test(arguments: ["router-webhooks", "access-log"])
    func deliveriesGoThroughTheRouterWhenAsked(_ setting: String) async throws {
        try await ServerFixture.run { fixture in
            let (created, _, _) = try await fixture.webhook(.none)
            let app = fixture.application {
                if setting == "router-webhooks" { $0.webhookFastPath = false } else { $0.accessLog = true }
            }
            try await app.test(.live) { client in
                let port = try #require(client.port)
                // Over two seconds: long enough for the LISTEN connection, and so the caches, to be up (the
                // fast path takes a delivery within a second of the server's start: untilTheFastPathTakes).
                for delivery in 0..<10 {
                    let connection = try RawConnection(port: port)
                    // A sender whose base URL ends in `/` doubles the slash, and the router takes it all the same.
                    let path = (delivery == 0 ? "/" : "") + created.webhook.urlPath
                    connection.send(Self.post(path, "{}", headers: "Connection: close\r\n"))
                    let answer = try await onOwnThread {
                        connection.readUntilClosed(timeout: .seconds(10)).lowercased()
                    }
                    #expect(answer.hasPrefix("http/1.1 202"))
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(try await Self.fastPathAnswers(port: port) == 0, "none answered by the fast path")
            }
            if setting == "access-log" {
                #expect(fixture.logs.lines(containing: "/webhooks/").count >= 10, "every delivery logged")
                let id = created.webhook.id.lowercased
                #expect(fixture.logs.lines(containing: id).isEmpty, "no line holds the whole id, the credential")
            }
        }
    }

    /// The fast path's answers carry `Date` in the form RFC 9110 gives (its own example).
    @Test func theDateHeaderHasTheHTTPForm() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    // MARK: Raw HTTP

    /// Sends deliveries with `Connection: close` until the fast path answers one (its counter in `/metrics`
    /// moves): deliveries go through the router, which asks the database, until the caches know the webhook,
    /// once the LISTEN connection is up. Returns how many were sent.
    static func untilTheFastPathTakes(_ path: String, port: Int) async throws -> Int {
        var sent = 0
        try await eventually(within: .seconds(10)) {
            let connection = try RawConnection(port: port)
            connection.send(post(path, "{}", headers: "Connection: close\r\n"))
            sent += 1
            let answer = try await onOwnThread { connection.readUntilClosed(timeout: .seconds(10)).lowercased() }
            #expect(answer.hasPrefix("http/1.1 202"))
            return try await fastPathAnswers(port: port) > 0
        }
        return sent
    }

    /// The server's count of requests answered by the fast path.
    static func fastPathAnswers(port: Int) async throws -> Int {
        let connection = try RawConnection(port: port)
        connection.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let text = try await onOwnThread { connection.readUntilClosed(timeout: .seconds(10)) }
        let name = "hookline_ingress_fast_path_answers_total "
        let line = text.split(separator: "\n").first { $0.hasPrefix(name) }
        return try #require(line.flatMap { Int($0.dropFirst(name.count)) }, "\(text)")
    }

    struct Answer {
        var status: Int
        var headers: Set<String>
        var body: String
        /// The headers but `Date`, `Content-Length` (the job ids differ) and `Connection: close` (the fast path
        /// closes the connection of a body it refuses, the router reads the rest of it).
        var comparableHeaders: Set<String> {
            headers.filter {
                !$0.hasPrefix("date:") && !$0.hasPrefix("content-length:") && $0 != "connection: close"
            }
        }
        var jobID: Int64? {
            ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])
                .flatMap { ($0["job_id"] as? NSNumber)?.int64Value }
        }
    }

    static func post(_ path: String, _ body: String, headers: String = "") -> String {
        "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(headers)"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    static func get(_ path: String) -> String { "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n" }

    /// Sends `request` and reads `count` answers, on a thread of their own (the server's tasks need the
    /// cooperative pool that a blocking read would hold).
    static func answers(_ connection: RawConnection, sending request: String, count: Int) async throws -> [Answer] {
        try await onOwnThread {
            connection.send(request)
            return answers(connection, count: count)
        }
    }

    /// Reads `count` answers (each with a `Content-Length`), waiting up to 10 s for each read.
    static func answers(_ connection: RawConnection, count: Int) -> [Answer] {
        var text = ""
        var answers: [Answer] = []
        while answers.count < count {
            if let (answer, rest) = parse(text) {
                answers.append(answer)
                text = rest
                continue
            }
            let more = connection.read(timeout: .seconds(10))
            if more.isEmpty { break }
            text += more
        }
        return answers
    }

    /// The whole answers in `text`, in order.
    static func answers(in text: String) -> [Answer] {
        var answers: [Answer] = []
        var rest = text
        while let (answer, after) = parse(rest) {
            answers.append(answer)
            rest = after
        }
        return answers
    }

    /// The first whole answer in `text`, and what follows it.
    static func parse(_ text: String) -> (Answer, String)? {
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        let headers = lines.dropFirst().map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (parts[0].lowercased(), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        let length = headers.first { $0.0 == "content-length" }.flatMap { Int($0.1) } ?? 0
        let bodyStart = text[end.upperBound...].utf8
        guard bodyStart.count >= length else { return nil }
        let body = String(decoding: bodyStart.prefix(length), as: UTF8.self)
        let rest = String(decoding: bodyStart.dropFirst(length), as: UTF8.self)
        return (Answer(status: status, headers: Set(headers.map { "\($0.0): \($0.1)" }), body: body), rest)
    }
}
