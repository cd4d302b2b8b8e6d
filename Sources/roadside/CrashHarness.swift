import ArgumentParser
import Foundation
import RoadsideCrashHarness

/// `roadside crash-harness`: the command over ``CrashHarness`` (module
/// `RoadsideCrashHarness`), in a temporary home.
struct CrashHarnessCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crash-harness",
    abstract: "Kill terminal and central processes at random points and check nothing is lost.",
    discussion: """
      In a temporary home: a central server process (`central serve`), terminal T-BJ-0001 using
      it, and a loop that starts `record`, `sync` and `central deduct` processes and kills one
      of them — or the server during a push — with SIGKILL after a random delay, until --kills
      kills have landed. After every kill it restarts what is down, finishes the work (sync,
      deduct, sync) and checks: PRAGMA integrity_check on every file; every stop shown to the
      officer (a `record` that exited 0) present at central exactly once; the outbox and
      central's records equal; the cache equal to central at its cursor (licences, vehicles,
      decisions); every decision charged at most once, central and the bank agreeing key by key
      and no deduction left open. Exit 0 when there are no violations, 1 otherwise.
      """)

  @Option(help: "Kills to land.") var kills = 1_000
  @Option(help: "Seed of the random delays and choices.") var seed: UInt64 = 1
  @Flag(help: "Keep the home and print its path.") var keep = false

  func run() async throws {
    let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let home = FileManager.default.temporaryDirectory
      .appendingPathComponent("roadside-crash-\(UUID().uuidString)", isDirectory: true)
    defer { if !keep { try? FileManager.default.removeItem(at: home) } }
    let report: CrashHarnessReport
    do {
      report = try await CrashHarness(binary: binary, home: home, kills: kills, seed: seed).run()
    } catch let error as CrashHarnessError {
      throw CLIError(error.kind == .serverUnavailable ? .unavailable : .software, error.description)
    }
    print(report.summary)
    for violation in report.violations { print("  \(violation)") }
    if keep { print("Home kept at \(home.path)") }
    if !report.violations.isEmpty { throw ExitCode(1) }
  }
}
