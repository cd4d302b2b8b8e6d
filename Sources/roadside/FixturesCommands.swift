import ArgumentParser
import Foundation
import RoadsideDomain
import RoadsideFixtures

struct Fixtures: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Generate and check fixture sets.", subcommands: [Generate.self, Check.self])

  struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Generate a deterministic synthetic population as JSON Lines files.",
      discussion: """
        The same --licences, --terminals, --seed and --now always give the same files. The \
        fleet's terminals are T-BJ-0001 on, spread over six units; there are at least two \
        officers for every terminal, officer 010001 + i of terminal i's unit.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "How many licences (drivers).") var licences: Int
    @Option(help: "Terminals of the fleet (default: one per 5000 licences, at least 6).")
    var terminals: Int?
    @Option(help: "The random seed.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Directory to write into.", valueName: "dir")) var out: String
    @Flag(help: "Replace fixture files already in the directory.") var force = false

    func validate() throws {
      guard licences >= 1 else { throw ValidationError("--licences must be at least 1") }
      guard licences <= 50_000_000 else {
        throw ValidationError("--licences must be at most 50000000")
      }
      if let terminals, !(1...FixtureGenerator.maximumTerminals).contains(terminals) {
        throw ValidationError(
          "--terminals must be 1 to \(FixtureGenerator.maximumTerminals) (T-BJ-0001 to T-BJ-9999)")
      }
    }

    func run() throws {
      let directory = URL(fileURLWithPath: out, isDirectory: true)
      let existing = FixtureLoader.fileNames.filter {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path)
      }
      if !existing.isEmpty, !force {
        throw CLIError(
          .cannotCreate,
          "\(directory.path) already holds \(existing.joined(separator: ", ")); pass --force to replace them or choose another --out"
        )
      }
      let reference = try global.clock().now().chinaDate
      let started = Date()
      let summary = try FixtureGenerator(
        licenceCount: licences, seed: seed, referenceDate: reference, terminalCount: terminals
      )
      .write(to: directory)
      let seconds = Date().timeIntervalSince(started)
      print(
        "Wrote \(summary.licences) licences, \(summary.vehicles) vehicles, \(summary.officers) officers, \(summary.terminals) terminals, \(summary.mandates) mandates and \(summary.decisions) decisions to \(directory.path)"
      )
      print("Seed \(seed), reference date \(reference), \(String(format: "%.1f", seconds)) s")
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Validate a fixture directory and report the first bad record.",
      discussion: """
        Every record is checked strictly and against the others, then the set against the \
        law on the day it describes (its latest date, or --as-of): classes held at the \
        ages and after the waits the texts set (公安部令第162号 §14, §16, §17), no class \
        a holder has aged out of (§65), and the status every revoking or suspending \
        decision requires (道路交通安全法 §91, §101). A refusal names the file, the line, \
        the record and the article; exit code 65.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The fixture directory (default: the set shipped with Roadside).")
    var directory: String?
    @Option(
      help: ArgumentHelp(
        "Check the age and time rules on this day (YYYY-MM-DD) instead of the set's latest date.",
        valueName: "date"))
    var asOf: String?

    func validate() throws {
      if let asOf, LocalDate(iso: asOf) == nil {
        throw ValidationError("--as-of \"\(asOf)\" is not a date; write it as YYYY-MM-DD")
      }
    }

    func run() throws {
      let url =
        directory.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? DefaultFixtures.directory
      let day = asOf.flatMap { LocalDate(iso: $0) }
      let set = try FixtureLoader().load(directory: url, asOf: day)
      let checkedOn = (day ?? set.snapshotDate).map { " on \($0)" } ?? ""
      print(
        "\(url.path): \(set.licences.count) licences, \(set.vehicles.count) vehicles, \(set.officers.count) officers, \(set.terminals.count) terminals, \(set.mandates.count) mandates, \(set.decisions.count) decisions — all valid\(checkedOn)"
      )
    }
  }
}
