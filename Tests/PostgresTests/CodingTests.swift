import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Types round-trip through the server in the binary format")
struct CodingTests {
    /// Binds `value`, selects it back, and decodes it as the same type.
    func roundTrip<T: PostgresCodable & Equatable>(_ value: T, cast: String) async throws -> T {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let bind = PostgresBind(value)
        let result = try await client.query(PostgresQuery(unsafeSQL: "SELECT $1::\(cast) AS v", binds: [bind]))
        return try result[0].decode(T.self, at: 0)
    }

    @Test func integersRoundTripAtTheirLimits() async throws {
        for value in [Int.min, -1, 0, 1, Int.max] { #expect(try await roundTrip(value, cast: "int8") == value) }
        for value in [Int32.min, 0, Int32.max] { #expect(try await roundTrip(value, cast: "int4") == value) }
        for value in [Int16.min, 0, Int16.max] { #expect(try await roundTrip(value, cast: "int2") == value) }
    }

    @Test func textBoolAndDoubleRoundTrip() async throws {
        let unicode = "héllo wörld ✓ 日本語 🎉 \u{1F1FA}\u{1F1F8} 'quote' \"dq\" \\ $1"
        #expect(try await roundTrip(unicode, cast: "text") == unicode)
        #expect(try await roundTrip("", cast: "text") == "")
        #expect(try await roundTrip(true, cast: "bool") == true)
        #expect(try await roundTrip(false, cast: "bool") == false)
        #expect(try await roundTrip(3.141592653589793, cast: "float8") == 3.141592653589793)
        #expect(try await roundTrip(-0.000001, cast: "float8") == -0.000001)
    }

    @Test func timestamptzKeepsMicroseconds() async throws {
        let date = Date(timeIntervalSince1970: 1_764_380_000.123456)
        let back = try await roundTrip(date, cast: "timestamptz")
        #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
        let epoch = Date(timeIntervalSince1970: 0)
        #expect(try await roundTrip(epoch, cast: "timestamptz") == epoch)
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let row = try await client.query("SELECT '2000-01-01 00:00:01.5+00'::timestamptz, 'infinity'::timestamptz")[0]
        #expect(try row.decode(Date.self, at: 0) == Date(timeIntervalSince1970: 946_684_801.5))
        #expect(try row.decode(Date.self, at: 1) == .distantFuture)
    }

    @Test func uuidRoundTripsAndMatchesTheServersText() async throws {
        let id = UUID()
        #expect(try await roundTrip(id, cast: "uuid") == id)
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let text = try await client.query("SELECT \(id)::text")[0].decode(String.self, at: 0)
        #expect(text == id.uuidString.lowercased())
    }

    @Test func byteaKeepsZeroBytesAndEveryByteValue() async throws {
        let bytes = Data([0, 0, 1, 0, 255] + (0...255).map { UInt8($0) } + [0])
        #expect(try await roundTrip(bytes, cast: "bytea") == bytes)
        #expect(try await roundTrip(Data(), cast: "bytea") == Data())
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let length = try await client.query("SELECT length(\(bytes))")[0].decode(Int.self, at: 0)
        #expect(length == bytes.count)
    }

    @Test func aMegabyteOfJSONBRoundTrips() async throws {
        let items = (0..<10_000).map { "item-\($0)-" + String(repeating: "x", count: 90) + "-é" }
        let json = try PostgresJSON(encoding: items)
        #expect(json.bytes.count > 1_000_000)
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let row = try await client.query("SELECT \(json), jsonb_array_length(\(json))")[0]
        #expect(try row.decode(PostgresJSON.self, at: 0).decode([String].self) == items)
        #expect(try row.decode(Int.self, at: 1) == items.count)
    }

    @Test func arraysRoundTripWithNullElements() async throws {
        #expect(try await roundTrip([1, 2, 3, Int.max], cast: "int8[]") == [1, 2, 3, Int.max])
        #expect(try await roundTrip([Int](), cast: "int8[]") == [])
        let strings: [String?] = ["a", nil, "日本", ""]
        #expect(try await roundTrip(strings, cast: "text[]") == strings)
        let ids = [UUID(), UUID()]
        #expect(try await roundTrip(ids, cast: "uuid[]") == ids)
        let blobs = [Data([0, 1]), Data(), Data([0])]
        #expect(try await roundTrip(blobs, cast: "bytea[]") == blobs)
        let docs = [PostgresJSON(rawJSON: "{\"a\": 1}"), PostgresJSON(rawJSON: "[1, 2]")]
        #expect(try await roundTrip(docs, cast: "jsonb[]") == docs)
    }

    @Test func unnestTakesArraysForBatchStatements() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let ids = [10, 20, 30]
        let names: [String?] = ["ten", nil, "thirty"]
        let result = try await client.query(
            "SELECT id, name FROM unnest(\(ids)::int8[], \(names)::text[]) AS t(id, name) ORDER BY id")
        let rows = try result.map { try $0.decode((Int, String?).self) }
        #expect(rows.map(\.0) == ids)
        #expect(rows.map(\.1) == names)
    }

    @Test func nullDecodesAsNilForEveryTypeAndFailsForNonOptionals() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let row = try await client.query(
            """
            SELECT \(Int?.none), \(Int32?.none), \(Int16?.none), \(String?.none), \(Bool?.none),
                   \(Double?.none), \(Date?.none), \(UUID?.none), \(Data?.none), \(PostgresJSON?.none),
                   \([Int]?.none), \([String?]?.none)
            """)[0]
        #expect(try row.decode(Int?.self, at: 0) == nil)
        #expect(try row.decode(Int32?.self, at: 1) == nil)
        #expect(try row.decode(Int16?.self, at: 2) == nil)
        #expect(try row.decode(String?.self, at: 3) == nil)
        #expect(try row.decode(Bool?.self, at: 4) == nil)
        #expect(try row.decode(Double?.self, at: 5) == nil)
        #expect(try row.decode(Date?.self, at: 6) == nil)
        #expect(try row.decode(UUID?.self, at: 7) == nil)
        #expect(try row.decode(Data?.self, at: 8) == nil)
        #expect(try row.decode(PostgresJSON?.self, at: 9) == nil)
        #expect(try row.decode([Int]?.self, at: 10) == nil)
        #expect(try row.decode([String?]?.self, at: 11) == nil)
        let error = #expect(throws: PostgresError.self) { try row.decode(Int.self, at: 0) }
        #expect(error?.kind == .decoding)
    }

    @Test func valuesAreBoundNeverSplicedIntoSQL() async throws {
        let hostile = "'; DROP TABLE pg_class; --"
        let query: PostgresQuery = "SELECT \(hostile) AS v, \(42) AS n"
        #expect(query.sql == "SELECT $1 AS v, $2 AS n")
        #expect(query.binds.count == 2)
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let row = try await client.query(query)[0]
        #expect(try row.decode(String.self, named: "v") == hostile)
        #expect(try row.decode(Int.self, named: "n") == 42)
    }

    @Test func numericAndSmallerTypesDecodeIntoWiderSwiftTypes() async throws {
        let client = try TestDatabase.client(maxConnections: 1)
        defer { client.close() }
        let row = try await client.query(
            "SELECT 7::int2, 8::int4, sum(x), 12345.678::numeric, -0.05::numeric FROM (VALUES (1), (2)) t(x)")[0]
        #expect(try row.decode(Int.self, at: 0) == 7)
        #expect(try row.decode(Int.self, at: 1) == 8)
        #expect(try row.decode(Int.self, at: 2) == 3)
        #expect(try row.decode(String.self, at: 3) == "12345.678")
        #expect(try row.decode(Double.self, at: 4) == -0.05)
        #expect(throws: PostgresError.self) { try row.decode(Int16.self, at: 3) }
    }
}
