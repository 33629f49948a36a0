import Foundation
import Postgres
import TestSupport
import Testing

/// A pooled connection is handed to the next caller only as that caller expects it.
@Suite("Reusing a pooled connection")
struct ConnectionReuseTests {
    /// A cancel request goes from a thread of its own and can reach the server after the statement it was
    /// meant for has finished. PostgreSQL cancels whatever the backend runs when it arrives: the next caller's
    /// statement on the same connection, which failed with 57014 though nothing cancelled it.
    @Test func aCancelMeantForAFinishedStatementDoesNotCancelTheNextOne() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        var cancelledByMistake = 0
        for _ in 0..<100 {
            // Cancelled near its end, so that it often finishes before the cancel request arrives.
            let task = Task { try await client.query("SELECT pg_sleep(0.005)") }
            try await Task.sleep(for: .microseconds(Int.random(in: 3_000...7_000)))
            task.cancel()
            _ = await task.result
            do {
                _ = try await client.query("SELECT pg_sleep(0.02)")
            } catch let error as PostgresError where error.code?.rawValue == "57014" {
                cancelledByMistake += 1
            }
        }
        #expect(cancelledByMistake == 0, "\(cancelledByMistake) of 100 statements were cancelled by mistake")
    }

    /// COPY is refused (the pool does not speak it), which leaves libpq inside the COPY: the connection must
    /// go, or every later caller of that slot would fail with "another command is already in progress".
    @Test func aConnectionLeftInsideACopyIsNotReused() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let table = TestDatabase.uniqueName("copied")
        try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (v int)"))
        await #expect(throws: PostgresError.self) {
            try await client.query(PostgresQuery(unsafeSQL: "COPY \(table) FROM STDIN"))
        }
        for _ in 0..<3 {
            #expect(try await client.query("SELECT 7")[0].decode(Int.self, at: 0) == 7)
        }
    }
}
