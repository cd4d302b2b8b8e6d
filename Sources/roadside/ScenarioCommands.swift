import ArgumentParser
import Foundation
import RoadsideScenario

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
