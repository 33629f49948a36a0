import Foundation
import HTTPTypes
import Hookline
import HooklineAPIGenerated
import OpenAPIRuntime
import Postgres

/// An RFC 9457 problem: an admin API error that knows its answer, `application/problem+json` with its status,
/// a detail, and, for a request that fails validation, every problem with a JSON Pointer into the request
/// body.
///
/// Operations throw it (or a domain error it stands for: ``init(_:)``); ``ProblemMiddleware`` answers with it.
package struct Problem: Error, Sendable {
    package var status: HTTPResponse.Status
    package var detail: String?
    package var errors: [Components.Schemas.ProblemItem]
    package var headers: HTTPFields

    package init(
        _ status: HTTPResponse.Status, _ detail: String? = nil, errors: [Components.Schemas.ProblemItem] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    /// 503 with `Retry-After` when the database cannot be reached.
    package static let databaseUnavailable = Problem(
        .serviceUnavailable, "the database is unavailable; retry", headers: [.retryAfter: "1"])

    /// 422 for one field of the request body, named by its JSON Pointer.
    static func invalid(_ pointer: String, _ detail: String) -> Problem {
        Problem(.unprocessableContent, detail, errors: [.init(pointer: pointer, detail: detail)])
    }

    /// The document, with `about:blank` as its type and the status's reason phrase as its title.
    var document: Components.Schemas.Problem {
        .init(
            _type: "about:blank", title: status.reasonPhrase, status: status.code, detail: detail,
            errors: errors.isEmpty ? nil : errors)
    }

    /// The answer's head: the status, the headers and `Content-Type: application/problem+json`.
    package var head: HTTPResponse {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return HTTPResponse(status: status, headerFields: fields)
    }

    /// The answer's body.
    package var body: Data { (try? Self.encoder.encode(document)) ?? Data() }

    /// The answer, for an OpenAPI middleware.
    var response: (HTTPResponse, HTTPBody) { (head, HTTPBody(body)) }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension Problem {
    /// The problem a domain error stands for; nil for an error that is not the caller's doing (a bug, or a
    /// database that cannot be reached).
    init?(_ error: any Error) {
        switch error {
        case let problem as Problem:
            self = problem
        case let error as HooklineError:
            switch error {
            case .invalidArgument(let message): self = .invalid("", message)
            case .invalidField(let field, let message): self = .invalid("/" + field, message)
            case .notFound(let message): self.init(.notFound, message)
            case .revoked(let message), .conflict(let message): self.init(.conflict, message)
            case .stale(let message): self.init(.preconditionFailed, message)
            }
        case let problems as CycleProblems:
            self.init(
                .unprocessableContent, "the cycle definition has \(problems.problems.count) problem(s)",
                errors: problems.problems.map { .init(pointer: "/definition" + $0.location, detail: $0.message) })
        case let error as PostgresError where error.kind == .query:
            // What PostgreSQL refuses in the caller's data: a value it cannot store (class 22: a NUL in a
            // string, say), a duplicate, or a reference to nothing.
            switch error.code?.rawValue {
            case let code? where code.hasPrefix("22"): self = .invalid("", "a value cannot be stored as sent")
            case PostgresError.Code.uniqueViolation.rawValue: self.init(.conflict, "it exists already")
            case PostgresError.Code.foreignKeyViolation.rawValue: self.init(.notFound, "it refers to nothing")
            default: return nil
            }
        default:
            return nil
        }
    }
}

extension Problem {
    /// 422 for a request body that is JSON but not of the operation's shape, pointing at the member that is
    /// missing or of the wrong type; nil for one that is not JSON at all (400).
    init?(_ error: DecodingError) {
        let (path, detail): ([any CodingKey], String) =
            switch error {
            case .keyNotFound(let key, let context): (context.codingPath + [key], "required")
            case .typeMismatch(let type, let context): (context.codingPath, "not of the type \(type)")
            case .valueNotFound(let type, let context): (context.codingPath, "a \(type) is required")
            case .dataCorrupted(let context): (context.codingPath, "invalid: \(context.debugDescription)")
            @unknown default: ([], "")
            }
        guard !path.isEmpty else { return nil }
        let pointer = path.map { key in
            "/"
                + (key.intValue.map(String.init) ?? key.stringValue)
                .replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        }.joined()
        self = .invalid(pointer, String(detail.prefix(300)))
    }
}
