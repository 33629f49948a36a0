import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Statements that get no answer")
struct AnswerTimeoutTests {
    @Test func aStatementWithoutAnAnswerInTimeGivesTheConnectionUp() throws {
        let connection = try PostgresConnection(TestDatabase.url)
        let clock = ContinuousClock()
        let start = clock.now
        #expect {
            try connection.query("SELECT pg_sleep(5)", timeout: .milliseconds(300))
        } throws: { error in
            (error as? PostgresError)?.kind == .connectionLost
        }
        #expect(start.duration(to: clock.now) < .seconds(2))
        #expect(connection.isBroken, "a connection whose answer never came is not used again")
    }

    @Test func aStatementTimeoutIsTheSessionsAndTheServerEndsLongStatements() throws {
        let connection = try PostgresConnection(TestDatabase.url, statementTimeout: .milliseconds(250))
        let setting = try connection.query("SHOW statement_timeout")[0].decode(String.self, at: 0)
        #expect(setting == "250ms")
        #expect {
            try connection.query("SELECT pg_sleep(3)")
        } throws: { error in
            (error as? PostgresError)?.code?.rawValue == "57014"
        }
        #expect(!connection.isBroken, "the server cancelled the statement; the connection goes on")
        #expect(try connection.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
    }
}
