import FuzzTargets
import Testing

/// The fuzz targets' committed corpus (Tests/Fuzz/Corpus), replayed through every target without libFuzzer:
/// the seeds, the inputs that reach new code, and every input that once crashed a parser or broke a property.
@Suite("The fuzz corpus")
struct FuzzCorpusTests {
    @Test func everyInputOfTheCorpusKeepsItsTargetsProperties() throws {
        for target in FuzzTarget.all {
            let files = CorpusFiles.list(CorpusFiles.directory(of: target.name))
            #expect(files.count > 3, "the corpus of \(target.name)")
            for file in files {
                let bytes = try #require(CorpusFiles.read(file), "\(file)")
                let failure = target.check(bytes)
                #expect(failure == nil, "\(file): \(failure ?? "")")
            }
        }
    }

    @Test func everyTargetHasACorpusAndScriptsFuzzRunsEveryTarget() {
        let directories = CorpusFiles.list(CorpusFiles.root)
            .map { String($0.split(separator: "/").last ?? "") }
        #expect(Set(directories) == Set(FuzzTarget.all.map(\.name)))
    }
}
