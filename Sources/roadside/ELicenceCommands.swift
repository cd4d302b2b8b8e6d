import ArgumentParser
import Foundation
import RoadsideCentral
import RoadsideDomain
import RoadsideHolder

/// Applies for an e-licence for `number`, bound to the holder's phone in this home (a phone,
/// with its device key pair, is made when there is none). Shared by `holder apply` (the
/// holder applies from the phone) and `central elicence apply` (the counter applies for them).
func applyForELicence(_ number: LicenceNumber, global: GlobalOptions) throws -> ELicenceApplication
{
  try HolderService(
    home: global.homeDirectory, central: try openCentral(global), bytes: systemRandomBytes
  ).apply(number)
}

/// `roadside central elicence …`: issuance as the vehicle administration office runs it.
struct ELicenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "elicence",
    abstract: "E-licence issuance: applications, reviews and the register of issued e-licences.",
    subcommands: [Apply.self, Review.self, Applications.self, List.self])

  struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Start an application for the holder's phone in this home.",
      discussion: """
        The review completes one working day later by the clock (weekends and the holiday
        calendar do not count). The application is refused at once, with the reason, while the
        licence is withheld, suspended, overdue for a medical, expired or has no photo on file.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The licence number.") var number: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let application = try applyForELicence(try licenceNumber(number), global: global)
      if json { return try printJSON(application) }
      print(
        "Application \(application.id) for \(application.licence.masked) is under review; it completes at \(application.readyAt)"
      )
    }
  }

  struct Review: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Complete every review that is due by now: issue, or refuse with the reason.",
      discussion: """
        Phones complete due reviews themselves when they refresh ('roadside holder show');
        this runs the same step for every licence at once. While no issuer key is active, due
        reviews wait.
        """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let completed = try openCentral(global).completeDueReviews(salt: { systemRandomBytes(12) })
      if json { return try printJSON(completed) }
      guard !completed.isEmpty else { return print("No review is due") }
      printApplications(completed)
    }
  }

  struct Applications: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List applications, newest first.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this licence's applications.") var licence: String?
    @Option(help: "Only applications in this state: pending, issued or refused.") var state: String?
    @Option(help: "At most this many (without --licence).") var limit = 50
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
      if let state, ApplicationState(rawValue: state) == nil {
        throw ValidationError(
          "unknown state \"\(state)\"; the states are pending, issued and refused")
      }
      guard limit > 0 else { throw ValidationError("--limit must be a positive number") }
    }

    func run() throws {
      let central = try openCentral(global)
      let state = state.flatMap(ApplicationState.init(rawValue:))
      let applications =
        try licence.map { try central.applications(try licenceNumber($0)) }
        .map { list in list.filter { state == nil || $0.state == state } }
        ?? central.applications(state: state, limit: limit)
      if json { return try printJSON(applications) }
      guard !applications.isEmpty else { return print("No application") }
      printApplications(applications)
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the e-licences issued for a licence: epoch, key, validity, state.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The licence number.") var number: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let entries = try openCentral(global).issuedELicences(try licenceNumber(number))
      if json { return try printJSON(entries) }
      guard !entries.isEmpty else { return print("No e-licence has been issued for this licence") }
      printTable(
        ["ID", "EPOCH", "KID", "ISSUED", "EXPIRES", "STATE"],
        entries.map {
          [
            "\($0.id)", "\($0.epoch)", $0.kid, $0.issuedAt.description, $0.expiresAt.description,
            $0.state.rawValue,
          ]
        })
    }
  }
}

private func printApplications(_ applications: [ELicenceApplication]) {
  printTable(
    ["ID", "LICENCE", "APPLIED", "REVIEW DUE", "STATE", "REASON"],
    applications.map {
      [
        "\($0.id)", $0.licence.masked, $0.appliedAt.description, $0.readyAt.description,
        $0.state.rawValue,
        $0.reason ?? "",
      ]
    })
}
