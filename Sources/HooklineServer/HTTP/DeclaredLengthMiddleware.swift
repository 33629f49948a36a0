import Hummingbird

/// Refuses with 413 a request whose `Content-Length` says its body is larger than `maxBytes`, before anything
/// reads it. A body that declares no length, or lies, is still measured by the route while it reads.
struct DeclaredLengthMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            throw APIError.tooLarge
        }
        return try await next(request, context)
    }
}
