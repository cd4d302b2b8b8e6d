import Foundation
import RoadsideCrashHarness
import RoadsidePostgres
import RoadsideSpawn
import Testing

/// The built `roadside` binary: it sits next to the test bundle in the build directory.
let roadsideBinary: URL = {
  let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
  var dir = exe.deletingLastPathComponent()
  for _ in 0..<4 {
    let candidate = dir.appendingPathComponent("roadside")
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    dir = dir.deletingLastPathComponent()
  }
  fatalError("cannot find the roadside binary near \(exe.path); run 'swift build' first")
}()

/// The PostgreSQL server of the tests, when there is one.
let postgresServer: PostgresURL? = ProcessInfo.processInfo.environment[
  "ROADSIDE_TEST_POSTGRES_URL"
].flatMap { $0.isEmpty ? nil : try? PostgresURL($0) }

@Suite struct CrashHarnessTests {
  func home() -> URL {
    FileManager.default.temporaryDirectory
      .appendingPathComponent("roadside-crash-test-\(UUID().uuidString)", isDirectory: true)
  }

  /// The short run: 50 kills of terminal and central processes, and no violation.
  @Test func fiftyKillsAndNoViolations() async throws {
    let home = home()
    defer { try? FileManager.default.removeItem(at: home) }
    let report = try await CrashHarness(binary: roadsideBinary, home: home, kills: 50, seed: 3)
      .run()
    #expect(report.kills == 50)
    #expect(report.violations == [], "\(report.violations)")
    #expect(report.acknowledged > 0 && report.records >= report.acknowledged)
    #expect(report.summary.hasSuffix("; 0 violations"))
  }

  /// Central on PostgreSQL with two `central serve` nodes: syncs through either, kills of
  /// either, the same invariants. Runs when `ROADSIDE_TEST_POSTGRES_URL` names a server.
  @Test(.enabled(if: postgresServer != nil, "needs ROADSIDE_TEST_POSTGRES_URL"))
  func killsOfTwoNodesOnPostgreSQLAndNoViolations() async throws {
    let home = home()
    defer { try? FileManager.default.removeItem(at: home) }
    let server = try #require(postgresServer)
    let name = "roadside_harness_\(UUID().uuidString.lowercased().prefix(8))"
    let store = try server.creatingDatabase(name)
    defer { try? server.droppingDatabase(name) }
    let report = try await CrashHarness(
      binary: roadsideBinary, home: home, kills: 8, seed: 4, store: store, nodes: 2
    ).run()
    #expect(report.kills == 8)
    #expect(report.violations == [], "\(report.violations)")
    #expect(report.acknowledged > 0 && report.records >= report.acknowledged)
  }

  /// The command prints the same summary and exits 0.
  @Test func theCommandPrintsTheSummary() throws {
    let process = ChildProcess()
    process.executableURL = roadsideBinary
    process.arguments = ["crash-harness", "--kills", "3", "--seed", "5"]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(text)")
    #expect(text.contains(" 3 kills, "))
    #expect(text.hasSuffix("; 0 violations\n"))
  }

  /// A binary that cannot set the world up is a setup error, not a violation.
  @Test func aBinaryThatIsNotRoadsideIsASetupError() async throws {
    let home = home()
    defer { try? FileManager.default.removeItem(at: home) }
    await #expect(throws: CrashHarnessError(.setup, "central init failed in the harness home")) {
      _ = try await CrashHarness(
        binary: URL(fileURLWithPath: "/bin/false"), home: home, kills: 1, seed: 1
      ).run()
    }
  }
}
