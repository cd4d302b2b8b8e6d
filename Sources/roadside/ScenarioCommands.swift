import ArgumentParser
import Foundation
import RoadsidePostgres
import RoadsideScenario
import Synchronization

struct ScenarioCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scenario", abstract: "Run scenario scripts (Scenarios/README.md).",
    subcommands: [Run.self])

  struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run scenario files (or folders of them) and report every expectation.",
      discussion: """
        Each scenario builds its own world in a temporary home: central, the bank, terminals,
        the holders' phones, the simulated clock and network. Exit 0 only when every
        expectation of every scenario held; 1 when one did not; 65 when a file is not a valid
        scenario (the message names the file and line).
        """)

    @Argument(help: "Scenario files or folders.") var paths: [String]
    @Option(help: "Seed for every scenario (default: each file's own).") var seed: UInt64?
    @Option(help: ArgumentHelp("Write JUnit XML here.", valueName: "file")) var junit: String?
    @Flag(help: "Print every step.") var verbose = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      let files = try scenarioFiles(paths)
      let scenarios = try files.map { file in
        do {
          return try ScenarioParser.parse(file: file)
        } catch let error as ScenarioError {
          throw CLIError(.dataError, error.description)
        }
      }
      let runner = ScenarioRunner(seed: seed)
      var reports: [ScenarioReport] = []
      let colour = isatty(STDOUT_FILENO) == 1
      for scenario in scenarios {
        let report = await runner.run(scenario)
        reports.append(report)
        if !json { printReport(report, verbose: verbose, colour: colour) }
      }
      if let junit {
        try Data(JUnit.xml(reports).utf8).write(to: URL(fileURLWithPath: junit))
      }
      if json { try printJSON(reports) }
      let failed = reports.filter { !$0.passed }.count
      if !json {
        print("\(reports.count - failed) of \(reports.count) scenario(s) passed")
      }
      if failed > 0 { throw ExitCode(1) }
    }
  }
}

/// Files named by `paths`: `.yaml`/`.yml` files as given, folders searched recursively.
func scenarioFiles(_ paths: [String]) throws -> [String] {
  var files: [String] = []
  for path in paths {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CLIError(.notFound, "no scenario file or folder at \(path)")
    }
    if isDirectory.boolValue {
      let found =
        FileManager.default.enumerator(atPath: path)?
        .compactMap { $0 as? String }
        .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        .sorted() ?? []
      files += found.map { (path as NSString).appendingPathComponent($0) }
    } else {
      files.append(path)
    }
  }
  guard !files.isEmpty else {
    throw CLIError(.notFound, "no .yaml scenario files in \(paths.joined(separator: ", "))")
  }
  return files
}

func printReport(_ report: ScenarioReport, verbose: Bool, colour: Bool) {
  func paint(_ text: String, _ code: String) -> String {
    colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
  }
  let mark = report.passed ? paint("PASS", "32") : paint("FAIL", "31")
  print(
    "\(mark) \(report.file) — \(report.name) (seed \(report.seed), transcript \(report.transcriptHash.prefix(16)))"
  )
  if let aborted = report.abortedBy { print("  \(aborted)") }
  for step in report.steps {
    if verbose {
      print("  line \(step.line): \(step.step)")
      for line in step.outcome { print("      \(line)") }
    }
    for failure in step.failures {
      print(
        "  \(report.file):\(failure.line): \(failure.step): \(failure.key) expected \(failure.expected), was \(failure.actual)"
      )
    }
  }
}

/// JUnit XML: one test suite, one test case per scenario.
enum JUnit {
  static func xml(_ reports: [ScenarioReport]) -> String {
    func escape(_ text: String) -> String {
      text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    let failures = reports.filter { !$0.passed }.count
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    out +=
      "<testsuite name=\"roadside scenarios\" tests=\"\(reports.count)\" failures=\"\(failures)\" time=\"\(String(format: "%.3f", reports.reduce(0) { $0 + $1.seconds }))\">\n"
    for report in reports {
      out +=
        "  <testcase classname=\"\(escape(report.file))\" name=\"\(escape(report.name))\" time=\"\(String(format: "%.3f", report.seconds))\">\n"
      if let aborted = report.abortedBy {
        out += "    <failure message=\"\(escape(aborted))\"/>\n"
      }
      for failure in report.failures {
        out +=
          "    <failure message=\"\(escape("line \(failure.line): \(failure.key) expected \(failure.expected), was \(failure.actual)"))\"/>\n"
      }
      out += "  </testcase>\n"
    }
    return out + "</testsuite>\n"
  }
}

struct Drill: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a training drill: the trainee answers at marked steps and is scored.",
    discussion: """
      At each step marked `ask:` the drill shows what the officer sees (the phone, the
      terminal's answer, the lookup) and asks for the trainee's decision — the verdict, the
      offences, the procedure, whether the paper licence is needed. Each answer is scored
      against the expected one with the rule that decides it; a score sheet ends the drill.
      --answers takes the answers from a YAML file (a list, one mapping per question, in order)
      for automated runs. Exit 0 when every answer was right, 1 otherwise.
      """)

  @Argument(help: "The drill (a scenario file with ask: steps).") var file: String
  @Option(help: ArgumentHelp("Answers for automated runs.", valueName: "file")) var answers: String?
  @Option(help: "Seed (default: the file's own).") var seed: UInt64?
  @Flag(help: "Print the score sheet as JSON.") var json = false

  func run() async throws {
    let scenario: Scenario
    do {
      scenario = try ScenarioParser.parse(file: file)
    } catch let error as ScenarioError {
      throw CLIError(.dataError, error.description)
    }
    guard scenario.steps.contains(where: { $0.ask != nil }) else {
      throw CLIError(
        .dataError,
        "\(file) has no ask: steps; it is a scenario, not a drill (run it with 'roadside scenario run')"
      )
    }
    let provided: [[String: String]]?
    if let answers {
      do {
        provided = try DrillAnswers.load(file: answers)
      } catch let error as ScenarioError {
        throw CLIError(.dataError, error.description)
      }
    } else {
      provided = nil
    }
    let queue = AnswerQueue(provided)
    let quiet = json
    let asker: DrillAsker = { question, seen in
      if !quiet {
        print("")
        print("── \(question.prompt)")
        for line in seen.split(separator: "\n") { print("   \(line)") }
      }
      if let next = queue.next() { return next }
      var given: [String: String] = [:]
      for field in question.answers.keys.sorted() {
        print("   \(field)? ", terminator: "")
        given[field] = readLine(strippingNewline: true) ?? ""
      }
      return given
    }
    let report = await ScenarioRunner(seed: seed, asker: asker).run(scenario)
    if json { try printJSON(report.drill) } else { printScoreSheet(report) }
    if !report.passed || report.drill.contains(where: { !$0.correct }) { throw ExitCode(1) }
  }

  func printScoreSheet(_ report: ScenarioReport) {
    print("")
    print("Score sheet — \(report.name)")
    for answer in report.drill {
      print(
        "  line \(answer.line) \(answer.field): \(answer.correct ? "right" : "WRONG") (you: \(answer.given.isEmpty ? "—" : answer.given); expected: \(answer.expected))"
      )
      if !answer.correct { print("    \(answer.explanation)") }
    }
    let right = report.drill.filter(\.correct).count
    print("Score: \(right) of \(report.drill.count)")
    if !report.passed {
      print("The drill's own expectations did not all hold:")
      printReport(report, verbose: false, colour: false)
    }
  }
}

/// Answers given in advance, in question order.
final class AnswerQueue: Sendable {
  private let items: Mutex<[[String: String]]?>
  init(_ items: [[String: String]]?) { self.items = Mutex(items) }
  func next() -> [String: String]? {
    items.withLock { items in
      guard items != nil else { return nil }
      return items!.isEmpty ? [:] : items!.removeFirst()
    }
  }
}

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
      Faults: partition, drop, duplicate, reorder, delay, crash, bank, skew (default: all).
      With --store postgresql://…, central lives on that PostgreSQL server, in a new database
      per seed (dropped afterwards), and --nodes N spreads the terminals over N central nodes
      (endpoints with their own connections); the trace of a seed is the same as on SQLite.
      Exit 0 when every seed held, 1 otherwise.
      """)

  @Option(help: "The first seed.") var seed: UInt64 = 1
  @Option(help: "How many seeds, from --seed on.") var seeds = 1
  @Option(help: "Terminals (1–6).") var terminals = 3
  @Option(help: "Simulated hours of work.") var hours = 8
  @Option(help: ArgumentHelp("Faults, comma-separated, or none.", valueName: "list"))
  var faults = SimulationFault.allCases.map(\.rawValue).joined(separator: ",")
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

  var faultSet: Set<SimulationFault> {
    faults == "none"
      ? [] : Set(faults.split(separator: ",").compactMap { SimulationFault(rawValue: String($0)) })
  }

  func validate() throws {
    guard (1...6).contains(terminals) else {
      throw ValidationError("--terminals must be 1 to 6 (the fixtures' terminals)")
    }
    guard (1...240).contains(hours) else { throw ValidationError("--hours must be 1 to 240") }
    guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
    guard (1...6).contains(nodes) else { throw ValidationError("--nodes must be 1 to 6") }
    if nodes > 1, store == nil {
      throw ValidationError("--nodes above 1 needs --store: several nodes share a PostgreSQL store")
    }
    if let store {
      do { _ = try PostgresURL(store) } catch { throw ValidationError("--store: \(error)") }
    }
    if let keep {
      guard seeds == 1 else { throw ValidationError("--keep takes one seed; drop --seeds") }
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

  func run() async throws {
    var reports: [SimulationReport] = []
    let server = try store.map { try PostgresURL($0) }
    // The replay line names the same store and nodes; the URL without its password.
    let storeFlags =
      (server.map { " --store \($0)" } ?? "") + (nodes == 1 ? "" : " --nodes \(nodes)")
    for offset in 0..<UInt64(seeds) {
      let report = try await Simulation(
        seed: seed + offset, terminals: terminals, hours: hours, faults: faultSet,
        server: server, nodes: nodes
      ).run(home: keep.map { URL(fileURLWithPath: $0, isDirectory: true) })
      reports.append(report)
      if !json {
        print(
          "seed \(report.seed): \(report.events) events, \(report.records) records, \(report.documents) documents, \(report.divergences.values.reduce(0, +)) divergences, \(report.conflicts) conflicts, \(report.settled) settled, \(report.kills) crashes; \(report.passed ? "invariants held" : "\(report.violations.count) VIOLATIONS"); trace \(report.traceHash.prefix(16))"
        )
        for violation in report.violations { print("  \(violation)") }
        if !report.passed { print("  replay: \(report.replay)\(storeFlags)") }
      }
    }
    if json { try printJSON(reports) }
    let failed = reports.filter { !$0.passed }
    if !json {
      print(
        "\(reports.count - failed.count) of \(reports.count) seed(s) held; \(reports.reduce(0) { $0 + $1.records }) records, \(reports.reduce(0) { $0 + $1.divergences.values.reduce(0, +) }) divergences with their conflicts (\(reports.reduce(into: [String: Int]()) { $0.merge($1.divergences, uniquingKeysWith: +) }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), \(reports.reduce(0) { $0 + $1.kills }) crashes, \(reports.reduce(0) { $0 + $1.violations.count }) violations"
      )
    }
    if !failed.isEmpty { throw ExitCode(1) }
  }
}
