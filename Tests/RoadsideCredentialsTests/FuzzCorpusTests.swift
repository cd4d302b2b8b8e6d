import Foundation
import RoadsideCredentials
import RoadsideFuzzing
import Testing

/// The fuzzing property on its seed corpus (`Fuzz/corpus/`) and on whatever the fuzzer added
/// to it: every file must pass `CodeFuzzing.check` without trapping.
@Suite struct FuzzCorpusTests {
  static let corpus = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz/corpus", isDirectory: true)

  let world = CodeFuzzing()

  @Test func theGenuineCodesVerifyAndTheDamagedOnesDoNot() {
    for code in world.genuine {
      var replays = MemoryReplayGuard()
      let result = ELicence.verify(
        code, keys: world.keys, now: CodeFuzzing.now, expectedNonce: nil, replays: &replays)
      #expect((try? result.get()) != nil, "\(result)")
    }
    // Only the challenged code answers the world's challenge.
    let answered = world.genuine.filter { code in
      var replays = MemoryReplayGuard()
      return
        (try? ELicence.verify(
          code, keys: world.keys, now: CodeFuzzing.now, expectedNonce: CodeFuzzing.nonce,
          replays: &replays
        ).get()) != nil
    }
    #expect(answered == [world.genuine[2]])
    for code in world.damaged {
      var replays = MemoryReplayGuard()
      let result = ELicence.verify(
        code, keys: world.keys, now: CodeFuzzing.now, expectedNonce: nil, replays: &replays)
      #expect((try? result.get()) == nil, "\(code.prefix(40))")
    }
  }

  /// The seed files are the world's codes: regenerate them with ROADSIDE_WRITE_SEEDS=1.
  @Test func theSeedCorpusIsCurrent() throws {
    let seeds = zip(0..., world.genuine + world.damaged).map { index, code in
      (name: String(format: "seed-%02d", index), code: code)
    }
    if ProcessInfo.processInfo.environment["ROADSIDE_WRITE_SEEDS"] == "1" {
      try FileManager.default.createDirectory(
        at: FuzzCorpusTests.corpus, withIntermediateDirectories: true)
      for seed in seeds {
        try Data(seed.code.utf8).write(
          to: FuzzCorpusTests.corpus.appendingPathComponent(seed.name))
      }
    }
    for seed in seeds {
      let stored = try String(
        contentsOf: FuzzCorpusTests.corpus.appendingPathComponent(seed.name), encoding: .utf8)
      #expect(stored == seed.code, "\(seed.name) is out of date; run with ROADSIDE_WRITE_SEEDS=1")
    }
  }

  @Test func everyCorpusFilePassesTheProperty() throws {
    let files = try FileManager.default.contentsOfDirectory(
      at: FuzzCorpusTests.corpus, includingPropertiesForKeys: nil)
    #expect(files.count >= world.genuine.count + world.damaged.count)
    for file in files { world.check([UInt8](try Data(contentsOf: file))) }
  }
}
