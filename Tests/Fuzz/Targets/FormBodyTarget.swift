import Hookline

extension FuzzTarget {
    /// The token endpoint's `application/x-www-form-urlencoded` body. Input: the body.
    ///
    /// Properties: nothing crashes; the parser agrees with a reference that reads the body byte by byte, as
    /// the format is defined (split at `&` bytes, then at the first `=` byte, `+` is a space, `%XX` a byte,
    /// then UTF-8); what it reads, percent-encoded again, reads back the same.
    static let formBody = FuzzTarget(name: "form-body") { bytes in
        let parsed = Result { () throws(FormBody.ParseError) in try FormBody(bytes: bytes) }
        let reference = FormReference.parse(bytes)
        switch (parsed, reference) {
        case (.success(let form), .success(let values)):
            guard form.values == values else { return "read \(form.values), the reference \(values)" }
            let encoded = values.sorted { $0.key < $1.key }
                .map { FormReference.encode($0.key) + "=" + FormReference.encode($0.value) }
                .joined(separator: "&")
            guard let again = try? FormBody(bytes: Array(encoded.utf8)), again.values == values else {
                return "\(encoded.debugDescription) does not read back as \(values)"
            }
            return nil
        case (.failure(let error), .failure(let expected)):
            return error == expected ? nil : "refused with \(error), the reference with \(expected)"
        case (.success(let form), .failure(let expected)):
            return "read \(form.values), the reference refused it with \(expected)"
        case (.failure(let error), .success(let values)):
            return "refused with \(error), the reference read \(values)"
        }
    }
}
