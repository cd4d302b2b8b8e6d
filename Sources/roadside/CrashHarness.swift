import ArgumentParser
import Foundation
import RoadsideCrashHarness
import RoadsidePostgres

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
      With --store postgresql://…, central lives in a new database the harness makes on that
      server (and drops at the end, unless --keep), and --nodes N runs N `central serve`
      processes on it: each sync goes through one of them at random, and a server kill kills
      one of them.
      """)

  @Option(help: "Kills to land.") var kills = 1_000
  @Option(help: "Seed of the random delays and choices.") var seed: UInt64 = 1
  @Flag(help: "Keep the home and print its path.") var keep = false
  @Option(
    help: ArgumentHelp(
      "A PostgreSQL server (postgresql://USER@HOST[:PORT]/DATABASE) to put central on, in a new database of its own.",
      valueName: "url"))
  var store: String?
  @Option(help: "Central server processes (with --store; 1 without).") var nodes = 1

  func validate() throws {
    guard kills >= 1 else { throw ValidationError("--kills must be at least 1") }
    guard (1...8).contains(nodes) else { throw ValidationError("--nodes must be 1 to 8") }
    if nodes > 1, store == nil {
      throw ValidationError("--nodes above 1 needs --store: several nodes share a PostgreSQL store")
    }
    if let store, !PostgresURL.isURL(store) {
      throw ValidationError("--store must be a postgresql:// URL")
    }
  }

  func run() async throws {
    let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let home = FileManager.default.temporaryDirectory
      .appendingPathComponent("roadside-crash-\(UUID().uuidString)", isDirectory: true)
    defer { if !keep { try? FileManager.default.removeItem(at: home) } }
    var database: (server: PostgresURL, name: String)?
    if let store {
      let server = try PostgresURL(store)
      let name = "roadside_harness_\(UUID().uuidString.lowercased().prefix(8))"
      _ = try server.creatingDatabase(name)
      database = (server, name)
    }
    defer {
      if !keep, let database { try? database.server.droppingDatabase(database.name) }
    }
    let report: CrashHarnessReport
    do {
      report = try await CrashHarness(
        binary: binary, home: home, kills: kills, seed: seed,
        store: database.map { $0.server.database($0.name) }, nodes: nodes
      ).run()
    } catch let error as CrashHarnessError {
      throw CLIError(error.kind == .serverUnavailable ? .unavailable : .software, error.description)
    }
    print(report.summary)
    for violation in report.violations { print("  \(violation)") }
    if keep { print("Home kept at \(home.path)") }
    if keep, let database { print("Database kept: \(database.server.database(database.name))") }
    if !report.violations.isEmpty { throw ExitCode(1) }
  }
}
