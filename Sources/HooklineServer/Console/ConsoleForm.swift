import Hookline
import Hummingbird

/// Reading the console's form posts.
enum ConsoleForm {
    /// The largest form body unless told otherwise (`hookline serve --max-console-form-bytes`): a console form
    /// is a few fields.
    static let defaultMaxBytes = 64 * 1024

    /// The request's form body (`application/x-www-form-urlencoded`), refused (413) past `maxBytes`. The body
    /// stays readable afterwards.
    static func read(_ request: inout Request, maxBytes: Int) async throws -> FormBody {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw ConsolePageError(status: .contentTooLarge, title: "Refused", text: "The form is too large.")
        }
        do {
            return try FormBody(bytes: Array(buffer: buffer))
        } catch {
            throw ConsolePageError(status: .badRequest, title: "Refused", text: "The form could not be read.")
        }
    }

    /// `next` when it is a console address on this server (so that sign-in cannot send a user elsewhere).
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/console"), !next.hasPrefix("/console/signin"),
            !next.contains("//"), !next.contains("\\"), next.utf8.count <= 2048,
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        return next
    }
}
