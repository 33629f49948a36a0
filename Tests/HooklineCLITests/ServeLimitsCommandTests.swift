import Foundation
import TestSupport
import Testing

@Suite("hookline serve's limits")
struct ServeLimitsCommandTests {
    /// Past `--max-connections`, a new connection waits in the listen backlog until one closes.
    @Test func connectionsPastTheCapWaitForOneToClose() async throws {
        try await MigratedDatabase.with { database in
            let account = try await database.makeAccount()
            let cycle = try await HooklineTestData.cycle(account: account.id, database: database)
            let webhook = try await HooklineTestData.openWebhook(account: account.id, cycle: cycle, database: database)
            let server = try HooklineBinary.Server(
                url: database.url, port: try HooklineBinary.freePort(), arguments: ["--max-connections", "2"])
            let request = "POST /webhooks/\(webhook) HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
            try await eventually(within: .seconds(20)) {
                guard let probe = try? RawConnection(port: server.port) else { return false }
                probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return probe.read(timeout: .seconds(2)).hasPrefix("HTTP/1.1 200")
            }
            var open: [RawConnection] = []
            for _ in 0..<2 {
                let connection = try RawConnection(port: server.port)
                connection.send(request)
                #expect(connection.read(timeout: .seconds(10)).hasPrefix("HTTP/1.1 202"))
                open.append(connection)
            }
            let waiting = try RawConnection(port: server.port)
            waiting.send(request)
            let early = waiting.read(timeout: .seconds(1))
            #expect(early.isEmpty, "not served past the cap: \(early.prefix(20))")
            open.removeFirst()
            if early.isEmpty {
                #expect(waiting.read(timeout: .seconds(10)).hasPrefix("HTTP/1.1 202"), "served once one closed")
            }
            #expect(try await server.terminate() == 0)
        }
    }

    /// Limits that cannot work are refused at start, with a message that says why.
    @Test func impossibleLimitsAreRefusedAtStart() async throws {
        for (arguments, says) in [
            (["--max-body-bytes", "1073741824"], "protocol message"),
            (["--max-body-bytes", "2000", "--max-buffered-bytes", "1000"], "--max-buffered-bytes"),
            (["--header-timeout", "0"], "--header-timeout"),
        ] {
            let outcome = try await HooklineBinary.run(
                ["serve", "--database-url", "postgresql://nobody@127.0.0.1:1/none"] + arguments)
            #expect(outcome.status != 0, "\(arguments)")
            #expect(outcome.stderr.contains(says), "\(arguments): \(outcome.stderr)")
        }
    }
}
