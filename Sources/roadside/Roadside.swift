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
  try CentralService.open(try centralStore(global), clock: try global.clock())
}

/// The central store `global` names, checked to exist when it is a file (a PostgreSQL
/// store is checked when it is opened).
func centralStore(_ global: GlobalOptions) throws -> CentralStoreLocation {
  let location = try global.storeLocation()
  if case .file(let path) = location, !FileManager.default.fileExists(atPath: path) {
    let home = global.layout.home.path
    throw CLIError(
      .notFound,
      global.storeIsTheHomes
        ? "no central store in \(home); run 'roadside central init --home \(home)' first"
        : "no central store at \(path); run 'roadside central init --store \(path)' first")
  }
  return location
}

/// Parses a licence number argument with the domain's checks.
func licenceNumber(_ text: String) throws -> LicenceNumber {
  try CitizenID(text.trimmingCharacters(in: .whitespaces))
}
