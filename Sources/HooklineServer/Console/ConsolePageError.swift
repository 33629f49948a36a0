import HTTPTypes
import Hookline
import Hummingbird
import Postgres

/// A console request that ends in an error page (not found, refused, the database unreachable), thrown by the
/// step that finds it and rendered as HTML in the console's layout.
struct ConsolePageError: HTTPResponseError {
    let status: HTTPResponse.Status
    let title: String
    let text: String

    /// The page without the signed-in layout: errors of signed-in pages are rendered by
    /// ``ConsoleSessionMiddleware``, which knows the session.
    func response(from request: Request, context: some RequestContext) throws -> Response {
        ConsoleRenderer.shared.message(title, text, status: status)
    }

    static func notFound(_ text: String) -> Self { Self(status: .notFound, title: "Not found", text: text) }

    static let databaseUnavailable = Self(
        status: .serviceUnavailable, title: "Database unavailable",
        text: "The database cannot be reached just now. Try again in a moment.")

    static let crossOrigin = Self(
        status: .forbidden, title: "Refused",
        text: "Cross-origin request refused: console actions are taken only from the console's own pages.")

    static let staleForm = Self(
        status: .forbidden, title: "Refused",
        text: "This form is from another session (or none): open the page again and repeat the action.")

    /// The page for an error a console route met.
    static func from(_ error: any Error) -> Self {
        switch error {
        case let error as ConsolePageError: error
        case HooklineError.notFound(let message): .notFound(message)
        case HooklineError.conflict(let message), HooklineError.invalidArgument(let message):
            Self(status: .conflict, title: "Not done", text: message)
        case HooklineError.invalidField(let field, let message):
            Self(status: .badRequest, title: "Not done", text: "\(field): \(message)")
        case let error as PostgresError where error.kind != .query: databaseUnavailable
        default:
            Self(
                status: .internalServerError, title: "Something went wrong",
                text: "The request failed; see the server's log.")
        }
    }
}
