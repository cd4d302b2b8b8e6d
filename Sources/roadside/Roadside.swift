import ArgumentParser
import Foundation
import RoadsideCentral
import RoadsideDomain
import RoadsideStorage

/// `roadside`: the roadside-enforcement terminal simulator.
struct Roadside: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "roadside",
    abstract:
      "Simulate China's electronic driving licence at the roadside: central store, terminals, checks.",
    discussion: """
      State lives under a home directory (--home, $ROADSIDE_HOME, else ./.roadside).
      Every command takes --now (or $ROADSIDE_NOW) to fix the time.
      Exit codes: 0 ok, 64 usage, 65 bad data, 66 not found, 69 central unavailable, 70 internal,
      73 already exists, 74 I/O, 76 protocol error, 77 not authorised.
      """,
    version: "0.1.0",
    subcommands: [
      Demo.self, Central.self, TerminalGroup.self, Sync.self, Login.self, Logout.self, Lookup.self,
      Holder.self, Verify.self, Record.self, DecisionCommand.self, BankCommand.self,
      ScenarioCommand.self, Drill.self, Simulate.self, CrashHarnessCommand.self, Status.self,
      Conflicts.self, Audit.self, Fixtures.self,
      Bench.self,
    ])
}

/// Opens the central store of the home, or says how to create one.
func openCentral(_ global: GlobalOptions) throws -> CentralService {
  let layout = global.layout
  let clock = try global.clock()
  guard FileManager.default.fileExists(atPath: layout.centralStore.path) else {
    throw CLIError(
      .notFound,
      "no central store in \(layout.home.path); run 'roadside central init --home \(layout.home.path)' first"
    )
  }
  return try CentralService.open(path: layout.centralStore.path, clock: clock)
}

/// Parses a licence number argument with the domain's checks.
func licenceNumber(_ text: String) throws -> LicenceNumber {
  try CitizenID(text.trimmingCharacters(in: .whitespaces))
}
