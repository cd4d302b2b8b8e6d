import ArgumentParser
import Foundation
import RoadsideBench
import RoadsideCentral
import RoadsideCrashHarness
import RoadsideScenario

/// `roadside bench`: measurements beside bare references, in one run.
struct Bench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure sync paths beside bare references in the same run.",
    discussion: """
      --licences N (default 1,000,000) is the size of the world: the licences of the full pull,
      and of the terminal cache that verify and lookup read (--cache sets that alone).
      verify: full e-licence presentations verified, beside a bare loop of the same two Ed25519
      verifications: the code alone, the code with its verdict against the terminal cache, and
      the terminal's whole check (with its durable commit).
      lookup: 100,000 cache lookups in the terminal cache, beside a bare C-API prepared
      statement reading the same columns.
      pull: a full pull of --licences licence changes into an empty terminal cache, and a bare
      C-API insert loop of the same rows; the cache's size per licence.
      sync: an incremental pull of --changes central changes and a push of --records records,
      over HTTP to a central server on loopback (push: the push alone).
      scenario: the whole scenario suite (--scenarios, default Scenarios), each in its own world.
      central: --terminals N terminals (default 200), each enrolled with its own key, push
      --records records in signed batches over HTTP to --nodes K central nodes at once, then
      pull; beside it the same number of rows inserted by one connection with a prepared
      statement. Then the steady load the latency goal is about: each terminal pushes one
      check every --steady-pace seconds (default 1), --steady-rounds times (default 10), the
      terminals' schedules spread over the pace, each push timed from when it was due.
      --connections is each node's connections to a PostgreSQL store (default 4). Central is
      a SQLite file in a scratch folder, or with --store (or $ROADSIDE_STORE) a postgresql://
      server, on which the bench makes its own database and drops it at the end. The
      terminals' own files go in --fleet-dir (default /dev/shm when writable with 1 GiB
      free, else the temporary folder): they are the load, not what is measured. Not part of
      `all`.
      simulate: --seeds N seeds (default 20) of the standard workload (3 terminals × 8 hours,
      every fault) three times, each in processes of this binary: files on disk, one process
      (the simulation as it was: each world assembled, every commit synced); files in memory,
      one process; files in memory, --jobs K processes (default: the processors here). Seeds
      per second beside the disk run's, and every seed's trace must be the same in all three.
      Not part of `all`.
      Build with -c release for figures worth quoting.
      """)

  enum Which: String, ExpressibleByArgument, CaseIterable {
    case verify
    case lookup
    case push
    case scenario
    case pull
    case sync
    case central
    case simulate
    case all
  }

  @OptionGroup var global: GlobalOptions
  @Argument(
    help: "Which benchmark: verify, lookup, pull, sync, push, scenario, central, simulate or all.")
  var which: Which = .all
  @Option(help: "The scenario folder for `bench scenario`.") var scenarios = "Scenarios"
  @Option(help: "Licences: of the full pull, and of the cache verify and lookup read.")
  var licences: Int = 1_000_000
  @Option(help: "Central changes for the incremental pull.") var changes: Int = 1_000
  @Option(help: "Records for the push.") var records: Int = 10_000
  @Option(help: "Presentations for the verification benchmark.") var presentations: Int = 5_000
  @Option(help: "Licences in the terminal cache of verify and lookup (default: --licences).")
  var cache: Int?
  /// The cache size verify and lookup use.
  var cacheLicences: Int { cache ?? licences }
  @Option(help: "Rounds the verification loops take turns for; each keeps its fastest.")
  var rounds: Int = 3
  @Option(help: "Terminals of `bench central`.") var terminals: Int = 200
  @Option(help: "Central nodes of `bench central`, each its own connection and HTTP server.")
  var nodes: Int = 1
  @OptionGroup var connections: ConnectionOptions
  @Option(help: "Seconds between one terminal's pushes in the steady phase of `bench central`.")
  var steadyPace: Double = 1
  @Option(help: "Pushes of each terminal in the steady phase of `bench central`.")
  var steadyRounds: Int = 10
  @Option(
    help: ArgumentHelp(
      "The folder where the terminals of `bench central` keep their files (default: /dev/shm when writable with 1 GiB free, else the temporary folder).",
      valueName: "dir"))
  var fleetDir: String?
  @Option(help: "Seeds of `bench simulate`.") var seeds: Int = 20
  @Option(help: "Processes of the parallel run of `bench simulate` (default: the processors).")
  var jobs: Int?
  @Flag(help: "Print JSON.") var json = false

  func validate() throws {
    guard (1...10_000).contains(seeds) else { throw ValidationError("--seeds must be 1 to 10000") }
    if let jobs, !(1...64).contains(jobs) { throw ValidationError("--jobs must be 1 to 64") }
    guard (1...2_000).contains(terminals) else {
      throw ValidationError("--terminals must be 1 to 2000")
    }
    guard (1...16).contains(nodes) else { throw ValidationError("--nodes must be 1 to 16") }
    guard (0.01...60).contains(steadyPace) else {
      throw ValidationError("--steady-pace must be 0.01 to 60 seconds")
    }
    guard (1...1_000).contains(steadyRounds) else {
      throw ValidationError("--steady-rounds must be 1 to 1000")
    }
    if let fleetDir {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: fleetDir, isDirectory: &isDirectory),
        isDirectory.boolValue
      else {
        throw ValidationError(
          "--fleet-dir \(fleetDir) is not a folder: make it, or name one that is")
      }
      guard FileManager.default.isWritableFile(atPath: fleetDir) else {
        throw ValidationError(
          "--fleet-dir \(fleetDir) is not writable: name a folder you may write in")
      }
    }
    guard licences >= 1_000 else { throw ValidationError("--licences must be at least 1000") }
    guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    guard presentations >= 1, cacheLicences >= presentations || ![.verify, .all].contains(which)
    else {
      throw ValidationError("--presentations must be positive and --cache at least as many")
    }
    guard changes >= 1, records >= 2 else {
      throw ValidationError("--changes and --records must be positive")
    }
  }

  func run() async throws {
    let bench = SyncBench(licences: licences, clock: try global.clock())
    var results: [BenchResult] = []
    if which == .verify || which == .all {
      results += try VerifyBench(
        presentations: presentations, cacheLicences: cacheLicences, rounds: rounds,
        clock: try global.clock()
      ).run()
    }
    if which == .lookup || which == .all {
      results += try LookupBench(
        licences: min(cacheLicences, 1_000_000), lookups: 100_000, rounds: rounds,
        clock: try global.clock()
      ).run()
    }
    if which == .pull || which == .all { results += try bench.fullPull() }
    if which == .sync || which == .all {
      results += try await bench.incrementalPullAndPush(changes: changes, records: records)
    }
    if which == .push {
      results += try await bench.incrementalPullAndPush(changes: changes, records: records)
        .filter { $0.name == "push" }
    }
    if which == .scenario || which == .all { results.append(try await scenarioSuite()) }
    if which == .central {
      let store: CentralStoreLocation? =
        global.storeIsTheHomes ? nil : try global.storeLocation()
      results += try await CentralBench(
        store: store, terminals: terminals, nodes: nodes, records: records,
        connections: try connections.count(onPostgreSQL: store?.isPostgreSQL ?? false),
        steady: CentralBench.Steady(pace: steadyPace, rounds: steadyRounds),
        fleetParent: fleetDir.map { URL(fileURLWithPath: $0, isDirectory: true) },
        clock: try global.clock()
      ).run()
    }
    if which == .simulate {
      results += try SimulateBench(
        seeds: seeds, jobs: jobs ?? min(64, ProcessInfo.processInfo.activeProcessorCount)
      ).run()
    }
    if json { return try printJSON(results) }
    printTable(
      ["BENCHMARK", "VALUE", "REFERENCE", "RATIO", "GOAL", "MET"],
      results.map {
        [
          $0.name, "\(String(format: "%.1f", $0.value)) \($0.unit)",
          $0.reference.map { String(format: "%.1f", $0) } ?? "—",
          $0.ratio.map { String(format: "%.2f×", $0) } ?? "—", $0.goal, $0.met ? "yes" : "NO",
        ]
      })
    for result in results { print("  \(result.name): \(result.detail)") }
  }

  /// Runs every scenario of the folder and reports the time; every expectation must hold.
  func scenarioSuite() async throws -> BenchResult {
    let files = try scenarioFiles([scenarios])
    let parsed = try files.map { try ScenarioParser.parse(file: $0) }
    let started = ContinuousClock.now
    var passed = 0
    for scenario in parsed where await ScenarioRunner().run(scenario).passed { passed += 1 }
    let elapsed = ContinuousClock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return BenchResult(
      name: "scenario suite", unit: "s", value: seconds, reference: nil, ratio: nil,
      goal: "every scenario passes", met: passed == parsed.count,
      detail:
        "\(passed) of \(parsed.count) scenarios in \(scenarios) passed, \(String(format: "%.2f", seconds / Double(max(1, parsed.count)))) s each on average (each builds its own world)"
    )
  }
}

/// `bench simulate`: the same seeds with the files on disk in one process, in memory in one
/// process, and in memory in several, each a run of `roadside simulate` by this binary.
struct SimulateBench {
  let seeds: Int
  let jobs: Int

  struct Run {
    let seconds: Double
    let reports: [SimulationReport]
    var perSecond: Double { Double(reports.count) / seconds }
  }

  func simulate(files: SimulationFiles, jobs: Int) throws -> Run {
    // This very binary, even if the file at its path is replaced during the run.
    let binary = URL(fileURLWithPath: "/proc/self/exe")
    let started = ContinuousClock.now
    let (status, output) = try runRoadside(
      binary,
      [
        "simulate", "--seed", "1", "--seeds", "\(seeds)", "--terminals", "3", "--hours", "8",
        "--files", files.rawValue, "--jobs", "\(jobs)", "--json",
      ], environment: ProcessInfo.processInfo.environment)
    let elapsed = ContinuousClock.now - started
    guard status == 0 || status == 1,
      let reports = try? JSONDecoder().decode(SimulateOutput.self, from: Data(output.utf8))
        .reports,
      reports.count == seeds
    else {
      throw CLIError(
        .software,
        "roadside simulate --files \(files.rawValue) --jobs \(jobs) --seeds \(seeds) stopped with exit status \(status) and no report; run it alone to see why"
      )
    }
    return Run(
      seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds)
        / 1e18, reports: reports)
  }

  func run() throws -> [BenchResult] {
    let disk = try simulate(files: .disk, jobs: 1)
    let memory = try simulate(files: .memory, jobs: 1)
    let parallel = try simulate(files: .memory, jobs: jobs)
    let traces = disk.reports.map(\.traceHash)
    let same =
      memory.reports.map(\.traceHash) == traces && parallel.reports.map(\.traceHash) == traces
    let held = [disk, memory, parallel].allSatisfy { $0.reports.allSatisfy(\.passed) }
    func row(_ name: String, _ run: Run, goal: Double?) -> BenchResult {
      let ratio = run.perSecond / disk.perSecond
      return BenchResult(
        name: name, unit: "seeds/s", value: run.perSecond, reference: disk.perSecond,
        ratio: ratio, goal: goal.map { "≥ \(Int($0))× disk, same traces" } ?? "same traces",
        met: same && held && ratio >= (goal ?? 0),
        detail:
          "\(run.reports.count) seeds (3 terminals × 8 h, every fault) in \(String(format: "%.1f", run.seconds)) s; traces \(same ? "the same as" : "DIFFERENT from") the disk run's; \(run.reports.filter(\.passed).count) held"
      )
    }
    return [
      BenchResult(
        name: "simulate, disk, 1 process", unit: "seeds/s", value: disk.perSecond,
        reference: nil, ratio: nil, goal: "the reference: every seed holds",
        met: disk.reports.allSatisfy(\.passed),
        detail:
          "\(disk.reports.count) seeds in \(String(format: "%.1f", disk.seconds)) s, each world assembled from the fixtures in the temporary folder, every commit synced (the simulation before --files memory and --jobs)"
      ),
      row("simulate, memory, 1 process", memory, goal: nil),
      row("simulate, memory, \(jobs) processes", parallel, goal: 4),
    ]
  }
}
