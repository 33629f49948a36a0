import AsyncHTTPClient
import Foundation
import Hookline
import Testing

@testable import HooklineWorker

/// An http step connects to the address the destination guard checked, never to the name resolved again:
/// otherwise a name whose answer changes between the two (DNS rebinding, a TTL of 0 alternating between a
/// public address and 169.254.169.254) would lead the call past the check.
@Suite("http steps connect to the address that was checked")
struct PinnedDestinationTests {
    @Test func aNameIsConnectedToTheAddressTheGuardChecked() async throws {
        let receiver = Receiver()
        try await receiver.serving { base in
            let port = try #require(URL(string: base)?.port)
            // The guard resolves the made-up name to the receiver's address; the system's resolver does not
            // know it, so a client that resolved the name again when it connected could not reach anything.
            let resolved = DestinationGuard(allowPrivate: true, resolver: { _ in ["127.0.0.1"] })
            let caller = HTTPCaller(destinations: resolved)
            do {
                for path in ["/a", "/b"] {
                    let response = try await caller.call(
                        OutboundRequest(
                            method: "GET", url: "http://rebind.hookline-test.invalid:\(port)\(path)", headers: [],
                            body: nil, timeoutSeconds: 30))
                    #expect(response.status == 200)
                }
                let received = receiver.requests(to: "/a") + receiver.requests(to: "/b")
                #expect(received.count == 2)
                #expect(received.allSatisfy { $0.headers["host"] == "rebind.hookline-test.invalid:\(port)" })
                // A refusal is still the guard's, by the address the name resolves to.
                let refusing = DestinationGuard(allowPrivate: false, resolver: { _ in ["127.0.0.1"] })
                let strict = HTTPCaller(destinations: refusing)
                await #expect(throws: StepFailure.self) {
                    _ = try await strict.call(
                        OutboundRequest(
                            method: "GET", url: "http://rebind.hookline-test.invalid:\(port)/c", headers: [],
                            body: nil, timeoutSeconds: 30))
                }
                try await strict.shutdown()
            } catch {
                try? await caller.shutdown()
                throw error
            }
            try await caller.shutdown()
        }
    }

    /// One client per name and address, and no more than the capacity of idle ones: the least recently used
    /// idle client goes (shut down), while one a call is using stays.
    @Test func pinnedClientsAreBoundedAndOnlyIdleOnesGo() async throws {
        let receiver = Receiver()
        try await receiver.serving { base in
            let port = try #require(URL(string: base)?.port)
            let clients = PinnedHTTPClients(configuration: HTTPClient.Configuration(), capacity: 2)
            func get(_ host: String) async throws -> UInt {
                try await clients.with(host: host, address: "127.0.0.1") { client in
                    let response = try await client.execute(
                        HTTPClientRequest(url: "http://\(host):\(port)/x"), timeout: .seconds(30))
                    _ = try await response.body.collect(upTo: 1 << 16)
                    return response.status.code
                }
            }
            #expect(try await get("one.hookline-test.invalid") == 200)
            #expect(try await get("one.hookline-test.invalid") == 200)
            #expect(clients.count == 1, "one client per name and address")
            // While `two` is in use, two more names come: only an idle client may go.
            try await clients.with(host: "two.hookline-test.invalid", address: "127.0.0.1") { client async throws in
                #expect(try await get("three.hookline-test.invalid") == 200)
                #expect(try await get("four.hookline-test.invalid") == 200)
                #expect(clients.count == 2)
                // Still open: a client shut down under its call would fail this.
                let response = try await client.execute(
                    HTTPClientRequest(url: "http://two.hookline-test.invalid:\(port)/x"), timeout: .seconds(30))
                #expect(response.status.code == 200)
                _ = try await response.body.collect(upTo: 1 << 16)
            }
            #expect(try await get("two.hookline-test.invalid") == 200)
            #expect(clients.count == 2)
            await clients.shutdown()
        }
    }
}
