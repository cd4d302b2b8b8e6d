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
      discussion: "The same --licences, --seed and --now always give the same files.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "How many licences (drivers).") var licences: Int
    @Option(help: "The random seed.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Directory to write into.", valueName: "dir")) var out: String
    @Flag(help: "Replace fixture files already in the directory.") var force = false

    func validate() throws {
      guard licences >= 1 else { throw ValidationError("--licences must be at least 1") }
      guard licences <= 50_000_000 else {
        throw ValidationError("--licences must be at most 50000000")
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
        licenceCount: licences, seed: seed, referenceDate: reference
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
      abstract: "Validate a fixture directory and report the first bad record.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The fixture directory (default: the set shipped with Roadside).")
    var directory: String?

    func run() throws {
      let url =
        directory.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? DefaultFixtures.directory
      let set = try FixtureLoader().load(directory: url)
      print(
        "\(url.path): \(set.licences.count) licences, \(set.vehicles.count) vehicles, \(set.officers.count) officers, \(set.terminals.count) terminals, \(set.mandates.count) mandates, \(set.decisions.count) decisions — all valid"
      )
    }
  }
}
