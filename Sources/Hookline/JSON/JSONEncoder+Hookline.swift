import Foundation

extension JSONEncoder {
    /// The encoder of every JSON answer Hookline writes for people and programs (CLI `--json`, admin API):
    /// sorted keys, unescaped slashes, ISO 8601 dates, and lowercase UUIDs (see `LowercaseUUIDEncoding`).
    public static func hookline() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
