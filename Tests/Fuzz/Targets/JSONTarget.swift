import Hookline

extension FuzzTarget {
    /// The JSON reader and writer, which read every payload, header set, step output and cycle definition.
    /// Input: JSON text.
    ///
    /// Properties: nothing crashes; what reads is written as JSON that reads back as the same value, and
    /// writing that again gives the same bytes.
    static let json = FuzzTarget(name: "json") { bytes in
        guard let value = try? JSON(parsing: bytes) else { return nil }
        let written = value.bytes
        guard let again = try? JSON(parsing: written) else {
            return "wrote \(String(decoding: written, as: UTF8.self).debugDescription), which does not read"
        }
        guard again == value else {
            return "\(String(decoding: bytes, as: UTF8.self).debugDescription) read as \(value), wrote as \(again)"
        }
        return again.bytes == written ? nil : "writing twice gave different text"
    }
}
