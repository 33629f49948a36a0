import Hummingbird

/// What a middleware on Hookline's router calls to pass a request on: the next middleware or the route.
typealias NextResponder = (Request, HooklineRequestContext) async throws -> Response
