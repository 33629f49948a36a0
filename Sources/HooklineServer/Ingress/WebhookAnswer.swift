import HTTPTypes
import Hookline

/// The answer to a webhook delivery as ``WebhookChannelHandler`` writes it: what the router would have
/// answered, status, headers and body alike.
struct WebhookAnswer: Sendable {
    var status: HTTPResponse.Status
    /// Headers beside `Content-Type` and `Content-Length`.
    var headers: HTTPFields
    var body: [UInt8]

    /// 202 with the new job's id, or 200 with the first job's for a repeated delivery.
    init(_ outcome: EnqueueOutcome) {
        let (status, id): (HTTPResponse.Status, Int64) =
            switch outcome {
            case .accepted(let id): (.accepted, id)
            case .duplicate(let id): (.ok, id)
            }
        self.status = status
        self.headers = [:]
        self.body = Array("{\"job_id\":\(id)}".utf8)
    }

    /// A refusal's answer (``APIError`` or ``BearerChallenge``); 500 for anything else, which would be a bug.
    init(refusal: any Error) {
        let error =
            switch refusal {
            case let error as APIError: error
            case let challenge as BearerChallenge: challenge.apiError
            default: APIError(.internalServerError, "internal", "the server failed")
            }
        self.status = error.status
        self.headers = error.headers
        self.body = error.body
    }
}
