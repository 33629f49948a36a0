import Foundation
import HTTPTypes
import HooklineAPI
import Hummingbird

/// A ``Problem`` thrown by Hummingbird middleware in front of the admin API's operations (the token check,
/// the body limit, idempotency), answered as `application/problem+json` like the operations' own errors.
struct ProblemResponse: HTTPResponseError {
    let problem: Problem

    init(_ problem: Problem) { self.problem = problem }

    var status: HTTPResponse.Status { problem.status }

    func response(from request: Request, context: some RequestContext) -> Response {
        let head = problem.head
        return Response(
            status: head.status, headers: head.headerFields,
            body: ResponseBody(byteBuffer: ByteBuffer(data: problem.body)))
    }
}
