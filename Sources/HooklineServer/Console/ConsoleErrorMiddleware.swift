import Hummingbird

/// Turns whatever a console route throws into a console page (``ConsolePageError``), logging the errors that
/// are not the user's doing.
struct ConsoleErrorMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: HooklineRequestContext, next: NextResponder) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ConsolePageError {
            throw error
        } catch let error as HTTPResponseError {
            throw error
        } catch {
            let page = ConsolePageError.from(error)
            if page.status.code >= 500 {
                context.logger.error(
                    "console: \(request.method) \(request.uri.path) failed", metadata: ["error": "\(error)"])
            }
            throw page
        }
    }
}
