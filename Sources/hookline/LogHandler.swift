import Foundation
import Logging

/// Log lines on standard error, in the format of swift-log's StreamLogHandler (`time level label: metadata
/// [source] message`), but with metadata rendered only when a line is written. StreamLogHandler renders it
/// whenever metadata changes, and Hummingbird sets a request id on every request's logger: that alone took
/// several percent of the ingress's CPU.
struct HooklineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let explicit = event.metadata
        let source = event.source
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit { merged.merge(explicit) { $1 } }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = Date().formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
        var text = "\(time) \(level) \(label):"
        if !rendered.isEmpty { text += " \(rendered)" }
        text += " [\(source)] \(message)\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Installs the handler for the whole process, once.
    static let installed: Void = LoggingSystem.bootstrap { HooklineLogHandler(label: $0) }
}
