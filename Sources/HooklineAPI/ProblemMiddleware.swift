import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime
import Postgres

/// Turns whatever an operation throws into a ``Problem`` answer: the caller's mistakes into 4xx with their
/// detail, a request that does not decode into 400, a database that cannot be reached into 503 with
/// `Retry-After`, and anything else into a logged 500 that tells the caller nothing of the cause.
package struct ProblemMiddleware: ServerMiddleware {
    let logger: Logger

    package init(logger: Logger) { self.logger = logger }

    package func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            return try await next(request, body, metadata)
        } catch let error as ServerError {
            return problem(error, operationID: operationID).response
        } catch {
            return problem(underlying: error, operationID: operationID).response
        }
    }

    private func problem(_ error: ServerError, operationID: String) -> Problem {
        if let problem = Problem(error.underlyingError) { return problem }
        // No input: the request did not decode into the operation's (a body that is not its JSON, a
        // parameter of the wrong type, an unknown media type).
        if error.operationInput == nil {
            if let decoding = error.underlyingError as? DecodingError, let problem = Problem(decoding) {
                return problem
            }
            return Problem(.badRequest, String(error.causeDescription.prefix(500)))
        }
        return problem(underlying: error.underlyingError, operationID: operationID)
    }

    private func problem(underlying error: any Error, operationID: String) -> Problem {
        if let problem = Problem(error) { return problem }
        if let error = error as? PostgresError,
            [.connectionRefused, .connectionFailed, .connectionLost, .poolClosed].contains(error.kind)
                || error.code?.isConnectionFailure == true
        {
            logger.error(
                "admin API: database unavailable", metadata: ["operation": "\(operationID)", "error": "\(error)"])
            return .databaseUnavailable
        }
        logger.error("admin API: internal error", metadata: ["operation": "\(operationID)", "error": "\(error)"])
        return Problem(.internalServerError, "internal error")
    }
}
