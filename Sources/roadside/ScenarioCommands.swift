import ArgumentParser
import Foundation
import RoadsideMutants
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
        --mutant NAME runs with one deliberate bug compiled into central or the terminals
        (roadside simulate --list-mutants), as a scenario that `simulate --save-scenario` shrank
        from a mutant's failing day expects.
        """)

    @Argument(help: "Scenario files or folders.") var paths: [String]
    @Option(help: "Seed for every scenario (default: each file's own).") var seed: UInt64?
    @Option(help: ArgumentHelp("Write JUnit XML here.", valueName: "file")) var junit: String?
    @Flag(help: "Print every step.") var verbose = false
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Run with this deliberate bug (roadside simulate --list-mutants).")
    var mutant: String?
    @Option(
      help: ArgumentHelp(
        "Draw the run as an SVG timeline here (one scenario).", valueName: "file.svg"))
    var timeline: String?

    func validate() throws {
      if let mutant, Mutant(rawValue: mutant) == nil {
        throw ValidationError(
          "unknown mutant \"\(mutant)\"; mutants are \(Mutant.names)")
      }
    }

    func run() async throws {
      let files = try scenarioFiles(paths)
      let scenarios = try files.map { file in
        do {
          return try ScenarioParser.parse(file: file)
        } catch let error as ScenarioError {
          throw CLIError(.dataError, error.description)
        }
      }
      let runner = ScenarioRunner(seed: seed, mutant: mutant.flatMap(Mutant.init(rawValue:)))
      var reports: [ScenarioReport] = []
      let colour = isatty(STDOUT_FILENO) == 1
      if timeline != nil, scenarios.count != 1 {
        throw CLIError(
          .usage,
          "--timeline draws one scenario; \(paths.joined(separator: " ")) holds \(scenarios.count)")
      }
      for scenario in scenarios {
        let report: ScenarioReport
        if let timeline {
          let drawn = await runner.runWithTimeline(scenario)
          try Data(drawn.svg.utf8).write(to: URL(fileURLWithPath: timeline))
          report = drawn.report
        } else {
          report = await runner.run(scenario)
        }
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
