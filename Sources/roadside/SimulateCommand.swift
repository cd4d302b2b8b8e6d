import ArgumentParser
import Foundation
import RoadsideMutants
import RoadsidePostgres
import RoadsideScenario
import RoadsideSpawn
import Synchronization

struct Simulate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run deterministic simulations of many terminals and check the invariants.",
    discussion: """
      A random workload (checks, lookups, stops, voids, central suspensions and payments, syncs,
      deductions) across the terminals with random faults on the simulated clock; then the
      network heals, everything syncs, deductions settle, and the invariants are checked: no
      record lost or applied twice, no points or fine counted twice, every cache equal to
      central, a conflict for every divergence the workload created (stale checks, duplicate
      events, unseen 12-point crossings, refunds, skewed clocks) and none without one, central
      and bank reconciled for every day.
      The same seed gives the same trace hash; a failing seed prints the command that replays it.
      Faults: partition, drop, duplicate, reorder, delay, crash, bank, skew, region (default:
      all). Up to 6 terminals the world is the shipped fixtures; a larger fleet (up to 1000), or
      --licences M, runs in a generated world (FixtureGenerator, seed 1: the same world for
      every seed) with M licences (default 4 a terminal, at least 240) and two officers a terminal, and the
      workload grows with the fleet (as many events an hour per terminal as at 3 terminals,
      each step rounded down to a whole second);
      region cuts off every terminal of one unit at once.
      --files memory (the default) keeps each seed's files in /dev/shm (with 1 GiB free, else
      the temporary folder), copied from one world
      assembled at the start; a simulated crash is a process death, and what was committed
      survives it whether or not it reached the disk. --files disk assembles each seed's world
      in the temporary folder with every commit synced, as before. The trace of a seed is the
      same either way. --jobs K runs the seeds in K processes at once (default 1); the
      reports are printed in seed order.
      With --store postgresql://…, central lives on that PostgreSQL server, in a new database
      per seed (dropped afterwards), and --nodes N spreads the terminals over N central nodes
      (endpoints with their own connections); the trace of a seed is the same as on SQLite.
      After the seeds, coverage: how often each fault was injected, each conflict required,
      each verdict and reason given and each deduction state ended in, and the "sometimes"
      goals — every fault asked for, every conflict the workload can create, a deduction
      settled and one reversed, each reached at least once — with the ones never reached
      named (in 100 seeds every one should be). --json prints {reports, coverage, unreached,
      shrunk}.
      A failing run is shrunk: the first failing seed's recorded schedule is reduced by delta
      debugging to the fewest steps that still break the same invariant (at most --shrink-budget
      replays; --no-shrink skips it), and the steps are printed; --save-scenario FILE writes
      them as a scenario (the world, the steps, then settle and invariants) that `roadside
      scenario run FILE` fails the same way, and checks that it does.
      --mutant NAME runs with one deliberate bug compiled into central or the terminals
      (--list-mutants names them): the invariants must catch it.
      --timeline FILE.svg draws one seed's day: a lane for central, the bank and each
      terminal (grouped by 20 above 24 terminals), with its syncs, stops, checks, partitions,
      lossy links, skewed clocks, crashes, conflicts, bank faults and deduction runs, and the
      violations in red.
      Exit 0 when every seed held, 1 otherwise; 70 when a --jobs process stopped without
      reporting its seeds, or a saved scenario does not fail as its run did.
      """)

  @Option(help: "The first seed.") var seed: UInt64 = 1
  @Option(help: "How many seeds, from --seed on.") var seeds = 1
  @Option(help: ArgumentHelp(visibility: .private)) var stride: UInt64 = 1
  @Option(help: "Terminals (1–1000; above 6, or with --licences, the world is generated).")
  var terminals = 3
  @Option(
    help:
      "Licences of a generated world (default: the shipped 240 up to 6 terminals, else 4 a terminal, at least 240)."
  )
  var licences: Int?
  @Option(help: "Simulated hours of work.") var hours = 8
  @Option(help: ArgumentHelp("Faults, comma-separated, or none.", valueName: "list"))
  var faults = SimulationFault.allCases.map(\.rawValue).joined(separator: ",")
  @Option(help: "Where each seed's files are kept: memory or disk.") var files = "memory"
  /// `--files`, validated.
  var fileMode: SimulationFiles { SimulationFiles(rawValue: files) ?? .memory }
  @Option(help: "Processes that run seeds at once.") var jobs = 1
  @Option(
    help: ArgumentHelp(
      "Run in this folder and keep its files for inspection (one seed).", valueName: "dir"))
  var keep: String?
  @Option(
    help: ArgumentHelp(
      "A PostgreSQL server (postgresql://USER@HOST[:PORT]/DATABASE) to put central on, a new database per seed.",
      valueName: "url"))
  var store: String?
  @Option(help: "Central nodes the terminals are spread over (with --store; 1 without).")
  var nodes = 1
  @Flag(help: "Print JSON.") var json = false
  @Option(help: "Run with one deliberate bug in central or the terminals (see --list-mutants).")
  var mutant: String?
  @Flag(help: "List the mutants and what each breaks.") var listMutants = false
  @Flag(help: "Do not shrink a failing run.") var noShrink = false
  @Option(help: "The most replays a shrink may take.") var shrinkBudget = 2_000
  @Option(
    help: ArgumentHelp(
      "Write the shrunk failing run as a scenario file (a new file).", valueName: "file"))
  var saveScenario: String?
  @Option(
    help: ArgumentHelp(
      "Draw the seed's day as an SVG timeline here (one seed).", valueName: "file.svg"))
  var timeline: String?
  /// `--mutant`, validated.
  var mutantValue: Mutant? { mutant.flatMap(Mutant.init(rawValue:)) }
  /// One JSON report per line, as each seed ends: how a --jobs process reports to its parent.
  @Flag(help: ArgumentHelp(visibility: .private)) var reportLines = false

  var faultSet: Set<SimulationFault> {
    faults == "none"
      ? [] : Set(faults.split(separator: ",").compactMap { SimulationFault(rawValue: String($0)) })
  }

  func validate() throws {
    if let mutant, Mutant(rawValue: mutant) == nil {
      throw ValidationError(
        "unknown mutant \"\(mutant)\"; mutants are \(Mutant.names) (--list-mutants says what each breaks)"
      )
    }
    if timeline != nil {
      guard seeds == 1 else { throw ValidationError("--timeline draws one seed; drop --seeds") }
      guard keep == nil else { throw ValidationError("--timeline and --keep: choose one") }
    }
    guard shrinkBudget >= 1 else { throw ValidationError("--shrink-budget must be at least 1") }
    if let saveScenario {
      guard !noShrink else {
        throw ValidationError("--save-scenario saves the shrunk run; drop --no-shrink")
      }
      guard !FileManager.default.fileExists(atPath: saveScenario) else {
        throw ValidationError("\(saveScenario) already exists; --save-scenario writes a new file")
      }
      guard
        Simulation.savesAsScenario(terminals: terminals, licences: licences, onServer: store != nil)
      else {
        throw ValidationError(
          "--save-scenario needs the shipped fixtures' world (at most \(Simulation.shippedTerminals) terminals, no --licences, no --store): a generated world is not a file beside the scenario"
        )
      }
    }
    guard (1...Simulation.maximumTerminals).contains(terminals) else {
      throw ValidationError("--terminals must be 1 to \(Simulation.maximumTerminals)")
    }
    if let licences, !(240...1_000_000).contains(licences) {
      throw ValidationError("--licences must be 240 to 1000000")
    }
    guard (1...240).contains(hours) else { throw ValidationError("--hours must be 1 to 240") }
    guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
    guard stride >= 1 else { throw ValidationError("--stride must be at least 1") }
    guard UInt64(seeds - 1).multipliedReportingOverflow(by: stride).overflow == false,
      seed.addingReportingOverflow(UInt64(seeds - 1) * stride).overflow == false
    else {
      throw ValidationError("--seed \(seed) with --seeds \(seeds) runs past the largest seed")
    }
    guard SimulationFiles(rawValue: files) != nil else {
      throw ValidationError("--files must be memory or disk, not \"\(files)\"")
    }
    guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1 to 64") }
    guard (1...6).contains(nodes) else { throw ValidationError("--nodes must be 1 to 6") }
    if nodes > 1, store == nil {
      throw ValidationError("--nodes above 1 needs --store: several nodes share a PostgreSQL store")
    }
    if let store {
      do { _ = try PostgresURL(store) } catch { throw ValidationError("--store: \(error)") }
    }
    if let keep {
      guard seeds == 1 else { throw ValidationError("--keep takes one seed; drop --seeds") }
      guard jobs == 1 else { throw ValidationError("--keep runs in this process; drop --jobs") }
      guard !FileManager.default.fileExists(atPath: keep) else {
        throw ValidationError("\(keep) already exists; --keep needs a new folder")
      }
    }
    if faults != "none" {
      for name in faults.split(separator: ",") where SimulationFault(rawValue: String(name)) == nil
      {
        throw ValidationError(
          "unknown fault \"\(name)\"; faults are \(SimulationFault.allCases.map(\.rawValue).joined(separator: ", ")) or none"
        )
      }
    }
  }

  /// The seeds of this run, in order.
  var seedList: [UInt64] { (0..<UInt64(seeds)).map { seed + $0 * stride } }

  /// The command that replays `seed` of this run alone.
  func replay(seed: UInt64) -> String {
    Simulation.replay(
      seed: seed, terminals: terminals, licences: licences, hours: hours,
      faults: SimulationFault.allCases.filter { faultSet.contains($0) }, mutant: mutantValue)
      + storeFlags
  }

  /// The replay line's store and nodes; the URL without its password.
  var storeFlags: String {
    (store.flatMap { try? PostgresURL($0) }.map { " --store \($0)" } ?? "")
      + (nodes == 1 ? "" : " --nodes \(nodes)")
  }

  func run() async throws {
    if listMutants {
      for mutant in Mutant.allCases {
        print(
          "\(mutant.rawValue.padding(toLength: 32, withPad: " ", startingAt: 0)) \(mutant.part.padding(toLength: 9, withPad: " ", startingAt: 0)) \(mutant.summary)"
        )
      }
      return
    }
    let server = try store.map { try PostgresURL($0) }
    var reports: [SimulationReport] = []
    func report(_ report: SimulationReport) throws {
      reports.append(report)
      if reportLines {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
      } else if !json {
        print(
          "seed \(report.seed): \(report.events) events, \(report.records) records, \(report.documents) documents, \(report.divergences.values.reduce(0, +)) divergences, \(report.conflicts) conflicts, \(report.settled) settled, \(report.kills) crashes, \(report.rounds.map { "converged in \($0) rounds" } ?? "did not converge"); \(report.passed ? "invariants held" : "\(report.violations.count) VIOLATIONS"); trace \(report.traceHash.prefix(16))"
        )
        for violation in report.violations { print("  \(violation)") }
        if !report.passed { print("  replay: \(replay(seed: report.seed))") }
      }
    }
    if jobs > 1, seeds > 1 {
      try await SeedWorkers(command: self).run { try report($0) }
    } else {
      // One world assembled for all the seeds, when the files are in memory on SQLite.
      let template = try makeTemplate(server)
      for seed in seedList {
        let simulation = simulation(seed, server: server, template: template)
        if let timeline {
          let (drawn, svg) = try await simulation.timeline()
          try Data(svg.utf8).write(to: URL(fileURLWithPath: timeline))
          try report(drawn)
        } else {
          try report(
            try await simulation.run(
              home: keep.map { URL(fileURLWithPath: $0, isDirectory: true) }))
        }
      }
    }
    if reportLines { return }
    let shrunk = try await shrinkFirstFailure(reports, server: server)
    let coverage = reports.reduce(SimulationCoverage()) { $0.merging($1.coverage) }
    let goals = SimulationCoverage.goals(faults: faultSet, terminals: terminals)
    let unreached = coverage.unreached(goals)
    if json {
      try printJSON(
        SimulateOutput(
          reports: reports, coverage: coverage, unreached: unreached, shrunk: shrunk?.output))
    }
    let failed = reports.filter { !$0.passed }
    if !json {
      func counts(_ table: [String: Int]) -> String {
        table.isEmpty
          ? "none"
          : table.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
      }
      print("coverage: faults \(counts(coverage.faults))")
      print("  conflicts \(counts(coverage.conflicts))")
      print("  verdicts \(counts(coverage.verdicts))")
      print("  deductions \(counts(coverage.deductions))")
      print(
        "  sometimes goals: \(goals.count - unreached.count) of \(goals.count) reached\(unreached.isEmpty ? "" : "; never reached: \(unreached.map(\.description).joined(separator: ", "))")"
      )
      print(
        "\(reports.count - failed.count) of \(reports.count) seed(s) held; \(reports.reduce(0) { $0 + $1.records }) records, \(reports.reduce(0) { $0 + $1.divergences.values.reduce(0, +) }) divergences with their conflicts (\(reports.reduce(into: [String: Int]()) { $0.merge($1.divergences, uniquingKeysWith: +) }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), \(reports.reduce(0) { $0 + $1.kills }) crashes, \(reports.reduce(0) { $0 + $1.violations.count }) violations"
      )
    }
    if let shrunk, !json { print(shrunk.text) }
    if let saved = shrunk?.saved, saved.mismatch != nil {
      throw CLIError(.software, Shrinking.message(saved))
    }
    if !failed.isEmpty { throw ExitCode(1) }
  }

  /// One world assembled for all the seeds, when the files are in memory on SQLite.
  func makeTemplate(_ server: PostgresURL?) throws -> WorldTemplate? {
    fileMode == .memory && server == nil
      ? try WorldTemplate(
        start: Simulation.start, numbersPerRange: Simulation.numbersPerRange,
        parent: fileMode.scratch,
        population: Simulation.population(terminals: terminals, licences: licences)) : nil
  }

  func simulation(_ seed: UInt64, server: PostgresURL?, template: WorldTemplate?) -> Simulation {
    Simulation(
      seed: seed, terminals: terminals, hours: hours, faults: faultSet, server: server,
      nodes: nodes, licences: licences, files: fileMode, template: template, mutant: mutantValue)
  }

  /// Shrinks the first failing seed (unless --no-shrink) and saves it with --save-scenario,
  /// checking that `scenario run` fails the saved file the same way.
  func shrinkFirstFailure(_ reports: [SimulationReport], server: PostgresURL?) async throws
    -> Shrinking?
  {
    guard !noShrink, let first = reports.first(where: { !$0.passed }) else {
      if let saveScenario, !json {
        print("every seed held: nothing to shrink, nothing written to \(saveScenario)")
      }
      return nil
    }
    let simulation = simulation(first.seed, server: server, template: try makeTemplate(server))
    let recorded = try await simulation.record()
    if !json {
      FileHandle.standardError.write(
        Data(
          "shrinking seed \(first.seed) (\(recorded.schedule.count) steps, \"\(recorded.report.violations.first?.invariant ?? "?")\")…\n"
            .utf8))
    }
    guard
      let shrunk = try await simulation.shrink(
        recorded, budget: shrinkBudget,
        progress: { steps, replays in
          if !json, isatty(STDERR_FILENO) == 1 {
            FileHandle.standardError.write(
              Data("\r  \(steps) steps after \(replays) replays   ".utf8))
          }
        })
    else { return nil }
    if !json, isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\n".utf8)) }
    var saved: SavedScenario?
    if let saveScenario { saved = try await simulation.saveScenario(shrunk, to: saveScenario) }
    return Shrinking(
      seed: first.seed, shrunk: shrunk, replay: replay(seed: first.seed), saved: saved)
  }
}

/// A shrunk failing seed, as simulate prints it.
struct Shrinking {
  let seed: UInt64
  let shrunk: ShrunkRun
  let replay: String
  let saved: SavedScenario?

  /// What became of the saved file.
  static func message(_ saved: SavedScenario) -> String {
    saved.mismatch.map {
      "\(saved.file) was written but does not fail as the run did (\($0)); keep the file and report it"
    } ?? "saved \(saved.file); it fails the same way: \(saved.command)"
  }

  var text: String {
    var lines = [
      "shrunk seed \(seed) from \(shrunk.originalSteps) steps to \(shrunk.steps.count) in \(shrunk.replays) replays (\(shrunk.minimal ? "no single step can go" : "the replay budget ran out")); it still breaks \"\(shrunk.invariant)\":"
    ]
    for (index, step) in shrunk.steps.enumerated() {
      lines.append(
        "  \(index + 1). \(step.yaml)\(step.error.map { "  # refused: \($0)" } ?? "")")
    }
    for violation in shrunk.violations { lines.append("  → \(violation)") }
    lines.append(
      saved.map(Shrinking.message) ?? "  save it as a scenario: \(replay) --save-scenario FILE")
    return lines.joined(separator: "\n")
  }

  var output: ShrunkOutput {
    ShrunkOutput(
      seed: seed, invariant: shrunk.invariant, originalSteps: shrunk.originalSteps,
      steps: shrunk.steps.map(\.yaml), replays: shrunk.replays, minimal: shrunk.minimal,
      scenario: saved?.file)
  }
}

/// The shrunk seed in `simulate --json`.
struct ShrunkOutput: Codable {
  let seed: UInt64
  let invariant: String
  let originalSteps: Int
  let steps: [String]
  let replays: Int
  let minimal: Bool
  let scenario: String?
}

/// The processes of `simulate --jobs K`: process j runs seeds j, j + K, j + 2K, … of the run
/// (this binary, `--stride K --report-lines`) and prints each report as one JSON line as
/// its seed ends; the reports are handed on in seed order.
struct SeedWorkers {
  let command: Simulate

  /// The arguments of worker `index`, and how many seeds it runs.
  func arguments(_ index: Int) -> (arguments: [String], seeds: Int)? {
    let jobs = min(command.jobs, command.seeds)
    let count = (command.seeds - index + jobs - 1) / jobs
    guard count > 0 else { return nil }
    var arguments = [
      "simulate", "--seed", "\(command.seedList[index])", "--seeds", "\(count)",
      "--stride", "\(command.stride * UInt64(jobs))", "--terminals", "\(command.terminals)",
      "--hours", "\(command.hours)", "--faults", command.faults, "--files",
      command.files, "--nodes", "\(command.nodes)", "--report-lines",
    ]
    if let store = command.store { arguments += ["--store", store] }
    if let licences = command.licences { arguments += ["--licences", "\(licences)"] }
    if let mutant = command.mutant { arguments += ["--mutant", mutant] }
    return (arguments, count)
  }

  func run(_ hand: (SimulationReport) throws -> Void) async throws {
    // This very binary, even if the file at its path is replaced during the run.
    let binary = URL(fileURLWithPath: "/proc/self/exe")
    let (stream, continuation) = AsyncStream.makeStream(of: WorkerEvent.self)
    var workers: [(process: ChildProcess, seeds: Int)] = []
    // On any early exit the processes already started are stopped, not orphaned.
    var finished = false
    defer {
      if !finished {
        for worker in workers where worker.process.isRunning {
          worker.process.terminate()
          worker.process.waitUntilExit()
        }
      }
    }
    for index in 0..<min(command.jobs, command.seeds) {
      guard let (arguments, seeds) = arguments(index) else { continue }
      let process = ChildProcess()
      process.executableURL = binary
      process.arguments = arguments
      process.environment = ProcessInfo.processInfo.environment
      let out = Pipe()
      process.standardOutput = out
      try process.run()
      workers.append((process, seeds))
      let handle = out.fileHandleForReading
      Thread.detachNewThread {
        var pending = Data()
        while true {
          let chunk = handle.availableData
          if chunk.isEmpty { break }
          pending.append(chunk)
          while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pending[pending.startIndex..<newline]
            pending = Data(pending[pending.index(after: newline)...])
            if let report = try? JSONDecoder().decode(SimulationReport.self, from: line) {
              continuation.yield(.report(report))
            }
          }
        }
        process.waitUntilExit()
        let signalled = process.terminationReason == .uncaughtSignal
        continuation.yield(
          .ended(
            index,
            signalled
              ? "killed by signal \(process.terminationStatus)"
              : [0, 1].contains(process.terminationStatus)
                ? nil : "exit status \(process.terminationStatus)"))
      }
    }
    var waiting: [UInt64: SimulationReport] = [:]
    var next = 0
    let order = command.seedList
    var ended = 0
    var stopped: [String] = []
    for await event in stream {
      switch event {
      case .report(let report):
        waiting[report.seed] = report
        while next < order.count, let ready = waiting.removeValue(forKey: order[next]) {
          try hand(ready)
          next += 1
        }
      case .ended(let index, let failure):
        ended += 1
        if let failure { stopped.append("process \(index + 1) (\(failure))") }
        if ended == workers.count { continuation.finish() }
      }
    }
    finished = true
    guard next == order.count else {
      // The reports that did come are handed on, in order, before the error.
      let missing = order[next...].filter { waiting[$0] == nil }
      for seed in order[next...] { if let report = waiting[seed] { try hand(report) } }
      throw CLIError(
        .software,
        "\(missing.count) seed(s) were not reported (\(stopped.isEmpty ? "a process ended early" : stopped.joined(separator: ", "))), first \(missing.prefix(5).map { "\($0)" }.joined(separator: ", ")); run one alone to see why: \(command.replay(seed: missing[missing.startIndex]))"
      )
    }
  }

  enum WorkerEvent: Sendable {
    case report(SimulationReport)
    /// A process ended: how, when not with 0 or 1.
    case ended(Int, String?)
  }
}

/// What `simulate --json` prints: every seed's report, the coverage of them all, and the
/// sometimes goals not reached.
struct SimulateOutput: Codable {
  let reports: [SimulationReport]
  let coverage: SimulationCoverage
  let unreached: [SimulationCoverage.Goal]
  let shrunk: ShrunkOutput?
}
