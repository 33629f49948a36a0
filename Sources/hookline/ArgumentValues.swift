import ArgumentParser
import Foundation
import Hookline

// The option values ArgumentParser checks itself, listing the choices in `--help` and in its errors.

/// `--account ID` and the like: ArgumentParser refuses a value that is not a UUID (rather than it silently
/// matching everything).
extension UUID: @retroactive ExpressibleByArgument {
    public init?(argument: String) { self.init(uuidString: argument) }
}

/// `--state available`: ArgumentParser checks the value and lists the states in `--help` and in its error.
extension JobState: ExpressibleByArgument {}

/// `--auth hmac`: ArgumentParser checks the value and lists the schemes in `--help` and in its error.
extension WebhookAuthScheme: ExpressibleByArgument {}

/// `--auth bearer`: ArgumentParser checks the value and lists the MCP server auth modes in `--help` and in its error.
extension MCPServerAuth: ExpressibleByArgument {}
