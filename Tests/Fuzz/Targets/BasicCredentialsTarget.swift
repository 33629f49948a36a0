import Foundation
import Hookline

extension FuzzTarget {
    /// The token endpoint's `Authorization: Basic` credentials. Input: options (bit 0: the rest is the whole
    /// header; else a client id and a secret, separated by NUL, to send; bit 1: sent form-encoded as RFC 6749
    /// §2.3.1 asks, else as they are, as many clients do), then the fields.
    ///
    /// Properties: nothing crashes; credentials that parse are Basic ones with a non-empty id and secret; an id
    /// and secret sent either way read back as they were (sent as they are, the first `:` ends the id, as
    /// RFC 7617 says, so then ids hold no `:`, and neither holds `%` or `+`, which would read as escapes).
    static let basicCredentials = FuzzTarget(name: "basic-credentials") { bytes in
        let input = FuzzInput(bytes, fields: 2)
        if input.bit(0) {
            let header = String(decoding: bytes.dropFirst(), as: UTF8.self)
            guard let credentials = BasicCredentials(header: header) else { return nil }
            if credentials.username.isEmpty || credentials.password.isEmpty { return "an empty id or secret" }
            return BasicCredentials.isBasic(header) ? nil : "parsed credentials that are not Basic: \(header)"
        }
        let id = input.text(0)
        let secret = input.text(1)
        guard !id.isEmpty, !secret.isEmpty else { return nil }
        let encoded = input.bit(1)
        if !encoded,
            id.utf8.contains(UInt8(ascii: ":")) || (id + secret).utf8.contains(where: { "%+".utf8.contains($0) })
        {
            return nil
        }
        let user = encoded ? FormReference.encode(id) : id
        let password = encoded ? FormReference.encode(secret) : secret
        let header = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        let parsed = BasicCredentials(header: header)
        guard parsed?.username == id, parsed?.password == secret else {
            return "\(id.debugDescription):\(secret.debugDescription) read back as \(String(describing: parsed))"
        }
        return nil
    }
}
