import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Connecting, errors and transactions")
struct ConnectionTests {
    @Test func malformedURLIsAnInvalidConnectionString() async throws {
        for bad in ["postgresql://[::1", "not a connection string", "postgresql://localhost:notaport/db"] {
            let error = #expect(throws: PostgresError.self) { try PostgresConnection(bad) }
            #expect(error?.kind == .invalidConnectionString, "\(bad)")
        }
    }

    @Test func nothingListeningIsConnectionRefused() throws {
        // Port 1 on loopback: nothing listens there and the kernel refuses at once.
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection("postgresql://hookline@127.0.0.1:1/hookline")
        }
        #expect(error?.kind == .connectionRefused)
    }

    @Test func wrongPasswordIsAuthenticationFailed() throws {
        var components = try #require(URLComponents(string: try TestDatabase.url))
        components.password = "wrong-password"
        let error = #expect(throws: PostgresError.self) { try PostgresConnection(components.string!) }
        #expect(error?.kind == .authenticationFailed)
        #expect(!(error?.description.contains("wrong-password") ?? true))
    }

    @Test func libpqKeywordStringsConnectToo() throws {
        let components = try #require(URLComponents(string: try TestDatabase.url))
        let keywords =
            "host=\(components.host!) port=\(components.port!) user=\(components.user!) "
            + "password=\(components.password!) dbname=\(components.path.dropFirst())"
        let connection = try PostgresConnection(keywords)
        #expect(try connection.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
    }

    @Test func uniqueViolationCarriesSQLStateAndADescriptionWithoutData() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let table = TestDatabase.uniqueName("uniq")
        try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (k text PRIMARY KEY)"))
        try await client.query(
            PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES ($1)", binds: [.init("secret-value")]))
        await #expect {
            try await client.query(
                PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES ($1)", binds: [.init("secret-value")]))
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.kind == .query && error.code == .uniqueViolation && error.severity == "ERROR"
                && error.detail?.contains("secret-value") == true && !error.description.contains("secret-value")
                && String(reflecting: error).contains("secret-value")
        }
    }

    @Test func preparedStatementsArePreparedOnceAndSurviveDeallocateAndATableChange() throws {
        let connection = try PostgresConnection(try TestDatabase.url)
        let table = TestDatabase.uniqueName("prep")
        try connection.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (k integer, v text)"))
        try connection.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1, 'one'), (2, 'two')"))
        func select(_ key: Int) throws -> PostgresResult {
            try connection.query(
                .prepared(PostgresQuery(unsafeSQL: "SELECT * FROM \(table) WHERE k = $1", binds: [.init(key)])))
        }
        func preparedCount() throws -> Int {
            try connection.query("SELECT count(*) FROM pg_prepared_statements")[0].decode(Int.self, at: 0)
        }
        #expect(try select(1)[0].decode(String.self, at: 1) == "one")
        #expect(try select(2)[0].decode(String.self, at: 1) == "two")
        // One server-side statement for both runs, and an unprepared query adds none.
        #expect(try preparedCount() == 1)
        try connection.query("DEALLOCATE ALL")
        #expect(try select(2)[0].decode(String.self, at: 1) == "two")
        // A changed result type ("cached plan must not change result type") is prepared again, too.
        try connection.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(table) ADD COLUMN extra integer DEFAULT 7"))
        let row = try select(1)[0]
        #expect(try row.decode(Int.self, at: 2) == 7)
        #expect(try select(1)[0].decode(Int.self, at: 2) == 7)
        #expect(try preparedCount() == 1)
    }

    @Test func withPreparedStatementsOffNothingIsPrepared() throws {
        let connection = try PostgresConnection(try TestDatabase.url, preparedStatements: false)
        let query = PostgresQuery.prepared("SELECT \(41) + 1")
        #expect(try connection.query(query)[0].decode(Int.self, at: 0) == 42)
        #expect(try connection.query(query)[0].decode(Int.self, at: 0) == 42)
        #expect(try connection.query("SELECT count(*) FROM pg_prepared_statements")[0].decode(Int.self, at: 0) == 0)
    }

    @Test func syntaxErrorsAreQueryErrorsAndTheConnectionStaysUsable() throws {
        let connection = try PostgresConnection(try TestDatabase.url)
        let error = #expect(throws: PostgresError.self) { try connection.query("SELEC 1") }
        #expect(error?.kind == .query)
        #expect(error?.code == .syntaxError)
        #expect(!connection.isBroken)
        #expect(try connection.query("SELECT 2")[0].decode(Int.self, at: 0) == 2)
    }

    @Test func aThrowingTransactionLeavesNoRow() async throws {
        struct Boom: Error {}
        let client = try TestDatabase.client(maxConnections: 2)
        defer { client.close() }
        let table = TestDatabase.uniqueName("tx")
        try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (v int8)"))
        let insert = PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1)")
        await #expect(throws: Boom.self) {
            try await client.withTransaction { connection in
                try connection.query(insert)
                throw Boom()
            }
        }
        // A failed statement inside the body rolls back as well.
        await #expect(throws: PostgresError.self) {
            try await client.withTransaction { connection in
                try connection.query(insert)
                try connection.query("SELECT 1/0")
            }
        }
        let count = PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")
        #expect(try await client.query(count)[0].decode(Int.self, at: 0) == 0)
        try await client.withTransaction { connection in _ = try connection.query(insert) }
        #expect(try await client.query(count)[0].decode(Int.self, at: 0) == 1)
    }

    @Test func aCommitThatTheServerTurnedIntoARollbackThrows() throws {
        let connection = try PostgresConnection(try TestDatabase.url)
        #expect(throws: PostgresError.self) {
            try connection.transaction { connection in
                _ = try? connection.query("SELECT 1/0")  // swallowed: the transaction is now failed
            }
        }
        #expect(!connection.isInTransaction)
    }

    @Test func multiStatementScriptsRunAndStopAtTheFirstError() throws {
        let connection = try PostgresConnection(try TestDatabase.url)
        let table = TestDatabase.uniqueName("script")
        try connection.execute(script: "CREATE TABLE \(table) (v int); INSERT INTO \(table) VALUES (1), (2);")
        #expect(
            try connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))[0].decode(Int.self, at: 0)
                == 2)
        let error = #expect(throws: PostgresError.self) {
            try connection.execute(
                script: "INSERT INTO \(table) VALUES (3); SELEC oops; INSERT INTO \(table) VALUES (4);")
        }
        #expect(error?.code == .syntaxError)
    }
}
