import Foundation
import Hookline
import Testing

@Suite("The outbound guard: ranges http steps never call")
struct DestinationGuardTests {
    @Test func nat64BenchmarkingReservedAndThisNetworkAreRefusedWhateverTheSettings() throws {
        let refused = [
            // NAT64 (RFC 6052): 64:ff9b::a9fe:a9fe is 169.254.169.254, 64:ff9b::7f00:1 is 127.0.0.1.
            "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b::808:808",
            // Benchmarking (RFC 2544), reserved (RFC 1112), "this network" (RFC 1122).
            "198.18.0.1", "198.19.255.254", "240.0.0.1", "254.1.2.3", "0.0.0.0", "0.1.2.3",
            // The same as IPv4-mapped IPv6 addresses.
            "::ffff:198.18.0.1", "::ffff:240.0.0.1",
        ]
        for allowPrivate in [false, true] {
            let destinations = DestinationGuard(allowPrivate: allowPrivate)
            for address in refused {
                #expect(destinations.refusal(for: address) != nil, "\(address), allowPrivate \(allowPrivate)")
            }
            // Their neighbours are ordinary public addresses.
            for address in ["198.17.255.255", "198.20.0.1", "1.0.0.1", "64:ff9c::1", "64:ff9b:0:0:1::1"] {
                #expect(destinations.refusal(for: address) == nil, "\(address), allowPrivate \(allowPrivate)")
            }
        }
        // And through a URL, as an http step's call is checked.
        #expect(throws: DestinationRefused.self) {
            try DestinationGuard(allowPrivate: true).check(URL(string: "http://[64:ff9b::a9fe:a9fe]/latest")!)
        }
        #expect(throws: DestinationRefused.self) {
            try DestinationGuard(allowPrivate: true).check(URL(string: "http://198.18.0.7:8080/")!)
        }
    }
}
