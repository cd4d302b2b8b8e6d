import ArgumentParser
import Foundation
import RoadsideCentral
import RoadsideDomain
import RoadsideProtocol

extension Central {
  struct NoticeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "notice",
      abstract: "Processing notices of the general procedure, decided at the unit.",
      subcommands: [List.self, Decide.self])

    struct List: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "List processing notices: open, overdue (past the reporting deadline) or decided."
      )
      @OptionGroup var global: GlobalOptions
      @Option(help: ArgumentHelp("Only notices in this state.", valueName: "open|decided|overdue"))
      var state: String?
      @Flag(help: "Print JSON.") var json = false

      func validate() throws {
        if let state, NoticeState(rawValue: state) == nil {
          throw ValidationError("--state must be open, decided or overdue, not \"\(state)\"")
        }
      }

      func run() throws {
        let cases = try openCentral(global).notices(
          state: state.flatMap(NoticeState.init(rawValue:)))
        if json { return try printJSON(cases) }
        guard !cases.isEmpty else {
          print(state.map { "No \($0) processing notices." } ?? "No processing notices.")
          return
        }
        printTable(
          ["NOTICE", "STATE", "LICENCE", "OFFENCE", "PROPOSED", "REPORT BY", "DECISION"],
          cases.map { item in
            let n = item.notice
            return [
              n.number, item.state.rawValue, (try? CitizenID(n.licence))?.masked ?? n.licence,
              n.charge.offence,
              n.penalty, n.reportBy?.description ?? "", item.decision ?? "",
            ]
          })
      }
    }

    struct Decide: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract: "Decide a processing notice at the unit (公安部令第157号 §48–§51).",
        discussion: """
          Makes the penalty decision: numbered and signed by central, the points recorded \
          (公安部令第163号 §13), the licence measure applied, the bank deduction queued when \
          the driver has a mandate. Terminals learn of it on their next sync.
          """)
      @OptionGroup var global: GlobalOptions
      @Argument(help: "The processing notice's number.") var document: String
      @Option(
        help: "The fine in yuan (0: a warning where the law allows one); default: the notice's.")
      var fine: Int?
      @Option(
        help: ArgumentHelp(
          "The licence measure; default: the one the law attaches to the offence.",
          valueName: "suspend:MONTHS|revoke|none"))
      var measure: String?
      @Option(help: "Why (stated on the decision and in the change log).") var reason: String?
      @Flag(help: "Print JSON.") var json = false

      func validate() throws {
        if let fine, fine < 0 { throw ValidationError("--fine takes whole yuan, 0 or more") }
        if let measure {
          do { _ = try LicenceMeasure(parsing: measure) } catch {
            throw ValidationError("--measure: \(error.description)")
          }
        }
      }

      func run() throws {
        let outcome = try openCentral(global).decideNotice(
          document, fineYuan: fine, measure: try measure.map { try LicenceMeasure(parsing: $0) },
          reason: reason)
        if json { return try printJSON(outcome) }
        let d = outcome.decision
        print(
          "Decision \(d.number) on notice \(outcome.notice): \(d.charge.offence) \(d.charge.chinese)"
        )
        print(field("Penalty", d.penalty))
        print(field("Legal basis", d.charge.basis))
        print(field("Procedure", "general (一般程序), decided at the unit"))
        print(field("Payment", "by \(d.payBy!)"))
        print(field("Points", "\(outcome.pointsAfter) in the cycle"))
        print(
          field(
            "Licence", "status \(outcome.licence.status.code) (\(outcome.licence.status.english))"))
        if outcome.deductionQueued {
          print(field("Bank", "deduction queued (the driver's mandate)"))
        }
        print(field("Signed", "by central, Ed25519 key \(outcome.publicKey)"))
      }
    }
  }

  struct UnitDecisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "decision", abstract: "Decisions made at the unit.", subcommands: [Void.self])

    struct Void: ParsableCommand {
      static let configuration = CommandConfiguration(
        abstract:
          "Void a decision made at the unit: points revoked, deduction cancelled or refunded.")
      @OptionGroup var global: GlobalOptions
      @Argument(help: "The decision number.") var number: String
      @Option(help: "Why (required).") var reason: String
      @Flag(help: "Print JSON.") var json = false

      func run() throws {
        let decision = try openCentral(global).voidUnitDecision(number, reason: reason)
        if json { return try printJSON(decision) }
        print(
          "Decision \(decision.number) voided: its points are revoked and its notice is open again")
      }
    }
  }
}

extension PointsCommand {
  struct Education: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record full-score education's exam (公安部令第163号 §17–§23).",
      discussion: """
        Passing after the study days (7, or 30 for A1 A2 A3 B1 B2, §18) with every fine paid \
        clears the points, removes status B and returns the withheld licence (§23).
        """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: LicenceCommand.ChangeOptions
    @Option(help: ArgumentHelp("The day of the exam.", valueName: "YYYY-MM-DD")) var completed:
      String
    @Option(help: ArgumentHelp("The exam's result.", valueName: "passed|failed")) var exam: String

    func validate() throws {
      guard LocalDate(iso: completed) != nil else {
        throw ValidationError("--completed must be a date such as 2026-12-01, not \"\(completed)\"")
      }
      guard ExamResult(rawValue: exam) != nil else {
        throw ValidationError("--exam must be passed or failed, not \"\(exam)\"")
      }
    }

    func run() throws {
      let outcome = try openCentral(global).completeEducation(
        try licenceNumber(options.number), completed: LocalDate(iso: completed)!,
        passed: exam == ExamResult.passed.rawValue, reason: options.reason)
      if options.json { return try printJSON(outcome) }
      if exam == ExamResult.passed.rawValue {
        print(
          "Full-score education passed: the points of licence \(outcome.licence.number) are cleared; status \(outcome.licence.status.code)"
        )
      } else {
        print(
          "Full-score exam failed for licence \(outcome.licence.number); it may be retaken from \(LocalDate(iso: completed)!.adding(days: 10)) (公安部令第163号 §21)"
        )
      }
      printChanges(outcome)
    }
  }
}
