import ArgumentParser
import Postgres

/// `--database-url` and `--json`: what every command that reads or changes a resource takes, with the one
/// way such a command prints its result.
struct ResourceOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    /// Runs `body` on a small pool and prints what it returns: one line of JSON with `--json`, else `text`'s
    /// lines (nothing for none).
    func run<Result: Encodable>(
        _ body: (PostgresClient) async throws -> Result, text: (Result) -> [String]
    ) async throws {
        try await database.withClient { client in
            let result = try await body(client)
            if output.json { return try output.printJSON(result) }
            for line in text(result) { print(line) }
        }
    }
}
