import Foundation
import HTTPTypes
import Hookline
import Hummingbird

/// Small JSON responses with the headers each kind needs. Error answers are thrown instead: see ``APIError``.
enum JSONResponse {
    /// The `Content-Type` of every JSON answer.
    static let contentType = "application/json; charset=utf-8"

    /// `value` as JSON with `status` and any extra headers.
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        make(encoded: encode(value), status: status, headers: headers)
    }

    /// A body already encoded as JSON, with `status` and any extra headers.
    static func make(encoded body: some Sequence<UInt8>, status: HTTPResponse.Status, headers: HTTPFields = [:])
        -> Response
    {
        var fields = headers
        fields[.contentType] = contentType
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// `value` as JSON with sorted keys (`{}` if it cannot be encoded).
    static func encode<T: Encodable>(_ value: T) -> Data {
        (try? JSONEncoder.hookline().encode(value)) ?? Data("{}".utf8)
    }

    /// `{"job_id":N}`, the answer to every accepted webhook, written without an encoder.
    static func jobID(_ id: Int64, status: HTTPResponse.Status) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString("{\"job_id\":\(id)}")
        return Response(
            status: status, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: buffer))
    }
}

extension HTTPFields {
    /// `Cache-Control: no-store` and `Pragma: no-cache`, which every token endpoint answer carries (RFC 6749
    /// §5.1).
    static var noStore: HTTPFields { [.cacheControl: "no-store", HTTPField.Name("Pragma")!: "no-cache"] }
}
