import Foundation
import FuzzTargets

/// Writes a line to standard error.
private func complain(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

#if HOOKLINE_LIBFUZZER
    // Built by scripts/fuzz with `-sanitize=fuzzer,address`: libFuzzer brings `main` and calls this with each
    // input, for the target named by HOOKLINE_FUZZ_TARGET.
    private let target: FuzzTarget = {
        let name = getenv("HOOKLINE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget.named(name) else {
            let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
            complain("HOOKLINE_FUZZ_TARGET must be one of \(names), not '\(name)'")
            exit(2)
        }
        return target
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
        if let failure = target.check(bytes) { fatalError("\(target.name): \(failure)") }
        return 0
    }
#else
    /// Without libFuzzer: replays inputs through a target, `HooklineFuzz TARGET FILE|DIRECTORY…`, to reproduce
    /// a crash with a plain build (and Swift's backtraces).
    @main
    enum FuzzDriver {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let name = arguments.first, let target = FuzzTarget.named(name) else {
                let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
                complain("usage: HooklineFuzz TARGET FILE|DIRECTORY…, with TARGET one of \(names)")
                exit(2)
            }
            var failures = 0
            for path in arguments.dropFirst().flatMap(CorpusFiles.list) {
                guard let bytes = CorpusFiles.read(path) else {
                    complain("\(path): unreadable")
                    failures += 1
                    continue
                }
                if let failure = target.check(bytes) {
                    print("\(path): \(failure)")
                    failures += 1
                }
            }
            exit(failures == 0 ? 0 : 1)
        }
    }
#endif
