import Foundation

/// The inputs of a corpus: files, or every file in a directory.
package enum CorpusFiles {
    /// `Tests/Fuzz/Corpus` in the checkout this file is in.
    package static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Corpus").path

    /// The committed corpus of a target: `Tests/Fuzz/Corpus/<name>`.
    package static func directory(of target: String) -> String { root + "/" + target }

    /// `path` itself when it is a file, else the files in it, sorted.
    package static func list(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [path]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
    }

    package static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }
}
