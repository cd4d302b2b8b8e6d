import ArgumentParser
import Foundation
import RoadsideBank
import RoadsideBankHTTP
import RoadsideBankProtocol
import RoadsideCentral
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideScenario
import RoadsideStorage
import RoadsideTerminal

struct Record: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Record a stop's offences and serve the driver their decisions (works offline).",
    discussion: """
      Each offence is decided separately; the documents are served together. A warning or a
      fine of at most 200 yuan without suspension or revocation is decided on the spot (an
      electronic penalty decision, 公安部令第157号 §43); above 200 yuan, or when the licence is
      to be suspended or revoked, the driver gets a processing notice (report within 15 working
      days). When the paper licence is withheld, a compulsory-measure certificate follows.
      Documents are numbered from the terminal's own ranges and signed with its key; they,
      their outbox entries and the stop are written in one transaction before anything is shown.
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var target: TerminalOption
  @Option(help: "The driver's licence number.") var licence: String
  @Option(help: "The vehicle's plate.") var plate: String
  @Option(help: ArgumentHelp("The vehicle's class, such as C1.", valueName: "class"))
  var vehicle: String
  @Option(
    help: ArgumentHelp("Offence codes, comma-separated, such as 0601,0111.", valueName: "codes"))
  var offence: String
  @Option(
    help: ArgumentHelp(
      "The fine in yuan (0: a warning, where the law allows one); default the catalogue's. With several offences, one fine each, comma-separated.",
      valueName: "yuan"))
  var fine: String?
  @Option(help: "Where it happened.") var place: String
  @Option(help: "The road's location code.") var locationCode: String?
  @Option(help: "A note on the documents.") var note: String?
  @Flag(help: "The driver refused to sign (noted on the documents).") var refusedToSign = false
  @Flag(help: "Print JSON.") var json = false

  var offenceCodes: [String] {
    offence.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
  }

  func validate() throws {
    guard !offenceCodes.isEmpty, offenceCodes.allSatisfy({ !$0.isEmpty }) else {
      throw ValidationError("--offence needs at least one offence code, such as 0601")
    }
    guard !place.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw ValidationError("--place must say where it happened")
    }
    if let fine {
      let parts = fine.split(separator: ",", omittingEmptySubsequences: false)
      guard parts.count == offenceCodes.count else {
        throw ValidationError(
          "--fine gives \(parts.count) fine(s) for \(offenceCodes.count) offence(s); give one each")
      }
      guard
        parts.allSatisfy({ Int($0.trimmingCharacters(in: .whitespaces)).map { $0 >= 0 } ?? false })
      else {
        throw ValidationError("--fine takes whole yuan, 0 or more, such as 200")
      }
    }
  }

  func run() throws {
    let fines: [Int?] =
      fine.map { text in
        text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
      } ?? offenceCodes.map { _ in nil }
    let report = try openTerminal(global, target.terminal).recordStop(
      licence: try licenceNumber(licence), plate: try Plate(plate),
      vehicle: try LicenceClass(code: vehicle),
      offences: zip(offenceCodes, fines).map { (code: $0, fineYuan: $1) }, place: place,
      locationCode: locationCode, note: note, refusedToSign: refusedToSign)
    if json { return try printJSON(report) }
    for document in report.documents { print(document.issuedLine) }
    print(
      "Points in the cycle: \(report.pointsBefore) → \(report.pointsAfter) (provisional until central applies them)"
    )
    if let withholding = report.withholding {
      print(
        "PAPER LICENCE REQUIRED: \(withholding.reason) (\(withholding.basis))"
      )
    }
    if let low = report.lowStock { print("warning: \(low)") }
  }
}

struct DecisionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "decision", abstract: "Show or void a decision or notice this terminal issued.",
    subcommands: [Show.self, Void.self])

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Render the document the driver receives.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TerminalOption
    @Argument(help: "The document number (18 digits).") var number: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let terminal = try openTerminal(global, target.terminal)
      guard let issued = try terminal.document(number) else {
        throw CLIError(
          .notFound,
          "document \(number) was not issued by terminal \(target.terminal); check the number")
      }
      if json { return try printJSON(issued) }
      // The stop's documents are decided separately and served together: one document.
      let all = ([issued] + (try issued.servedWith.compactMap { try terminal.document($0) }))
        .sorted { $0.document.number < $1.document.number }
      let d = issued.document
      print(PenaltyDocument.servedTogether)
      print(field("Party", "\(d.holder), licence \(d.licence)"))
      print(field("Vehicle", "\(d.plate) (\(d.vehicleClass))"))
      print(field("Time", d.at.description))
      print(field("Place", d.place + (d.locationCode.map { " (\($0))" } ?? "")))
      print(field("Authority", d.authority))
      print(field("Officer", d.officer))
      for (index, item) in all.enumerated() {
        let doc = item.document
        print("")
        print("\(index + 1). \(doc.title)")
        if item.state == .voided { print(field("VOID", item.voidReason ?? "")) }
        print(field("Facts", doc.facts))
        print(field("Legal basis", doc.charge.basis))
        print(field("Penalty", doc.penalty))
        print(field("Procedure", doc.procedureText))
        if let payment = doc.paymentText { print(field("Payment", payment)) }
        if let report = doc.reportText { print(field("Report", report)) }
      }
      print("")
      if let withholding = issued.withholding ?? d.withholding {
        print(
          field("Withheld", "\(withholding.reason) (\(withholding.basis)); paper licence required"))
      }
      if let note = d.note { print(field("Note", note)) }
      print(field("Signature", d.signatureText))
      print(field("Remedies", PenaltyDocument.remedies))
    }
  }

  struct Void: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Void a document (offline too); central reverses its points and any deduction.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TerminalOption
    @Argument(help: "The document number (18 digits).") var number: String
    @Option(help: "Why it is voided.") var reason: String

    func run() throws {
      let issued = try openTerminal(global, target.terminal).voidDocument(number, reason: reason)
      print(
        "Voided \(issued.document.kind) \(number); central reverses its points (and refunds a deducted fine) when it syncs"
      )
    }
  }
}

/// The bank named by `--bank`: `local` for the home's bank file (in-process), else a URL.
func bankClient(_ bank: String, _ global: GlobalOptions) throws -> any BankClient {
  if bank == "local" { return try BankEndpoint(path: global.layout.bankStore.path) }
  guard bank.hasPrefix("http://") || bank.hasPrefix("https://") else {
    throw CLIError(.usage, "--bank takes 'local' or an http:// or https:// URL, not \"\(bank)\"")
  }
  let path = global.layout.bankSecret.path
  guard let text = try? String(contentsOfFile: path, encoding: .utf8),
    let secret = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
    secret.count == 32
  else {
    throw CLIError(
      .notAuthorised,
      "no bank client secret at \(path); copy the central.secret that 'roadside bank init' wrote in the bank's home"
    )
  }
  return HTTPBankClient(
    baseURL: bank, secret: [UInt8](secret), clock: try global.clock(),
    client: try httpClient(for: bank, trusting: global.ca))
}

extension Central {
  struct Pay: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record a fine paid at a counter; its bank deduction is cancelled (or refunded).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The decision number.") var number: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let (decision, conflict) = try openCentral(global).payAtCounter(number)
      if json { return try printJSON(decision) }
      print("Decision \(decision.number): the fine of \(decision.fine.yuanText) is paid")
      if let conflict {
        print("  conflict \(conflict.id) (\(conflict.kind)): \(conflict.resolution)")
      }
    }
  }

  struct Deduct: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Drive every open bank deduction one step (request, retry, cancel, refund).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The bank: 'local' (this home's) or its URL.") var bank = "local"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      let run = try await openCentral(global).runDeductions(bank: try bankClient(bank, global))
      if json { return try printJSON(run) }
      print(
        "Deductions: \(run.settled.count) settled, \(run.failed.count) failed, \(run.unknown.count) unknown (retried next run), \(run.cancelled.count) cancelled, \(run.reversed.count) refunded"
      )
    }
  }

  struct Deductions: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List bank deductions and their states.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let all = try openCentral(global).deductions()
      if json { return try printJSON(all) }
      printTable(
        ["DECISION", "LICENCE", "FINE", "AMOUNT", "STATE", "ATTEMPTS", "REASON"],
        all.map {
          [
            $0.decision, $0.licence, $0.fine.description, $0.amount?.description ?? "",
            $0.state.rawValue, "\($0.attempts)", $0.reason ?? "",
          ]
        })
    }
  }

  struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Compare central's deductions and refunds of a day with the bank's statement.",
      discussion:
        "Exit 0 when the two ledgers agree; exit 1 with the differences listed when they do not.")
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The day (YYYY-MM-DD, China time).", valueName: "date"))
    var date: String
    @Option(help: "The bank: 'local' (this home's) or its URL.") var bank = "local"
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
      guard LocalDate(iso: date) != nil else {
        throw ValidationError("--date takes a day as YYYY-MM-DD, not \"\(date)\"")
      }
    }

    func run() async throws {
      let result = try await openCentral(global).reconcile(
        on: LocalDate(iso: date)!, bank: try bankClient(bank, global))
      if json {
        try printJSON(result)
        if !result.differences.isEmpty { throw ExitCode(1) }
        return
      }
      print(
        "\(result.date): central \(result.centralDeductions) deductions, \(result.centralRefunds) refunds; bank \(result.bankDeductions) deductions, \(result.bankRefunds) refunds"
      )
      if result.differences.isEmpty { return print("No differences") }
      for difference in result.differences {
        print("  \(difference.kind) \(difference.key): \(difference.description)")
      }
      throw ExitCode(1)
    }
  }
}

extension TerminalCommand {
  struct Allocate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Allocate another range of document numbers to a terminal (it pulls it on sync).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The terminal id.") var id: String
    @Option(help: "How many numbers (default: the store's numbers per range).") var size: Int?

    func run() throws {
      let range = try openCentral(global).allocateNumbers(terminal: id, size: size)
      print(
        "Allocated \(range.number(range.first))–\(range.number(range.last)) (\(range.size) numbers) to \(id); it receives them with its next sync"
      )
    }
  }
}

struct BankCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bank",
    abstract: "The simulated bank: accounts, mandates, deductions and injectable faults.",
    subcommands: [Init.self, Serve.self, Accounts.self, Statement.self, Fault.self])

  struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create the home's bank with an account for every mandate in the fixtures.")
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Fixture directory.", valueName: "dir")) var fixtures: String?

    func run() throws {
      let set = try FixtureLoader().load(
        directory: fixtures.map { URL(fileURLWithPath: $0, isDirectory: true) }
          ?? DefaultFixtures.directory)
      let path = global.layout.bankStore.path
      if FileManager.default.fileExists(atPath: path) {
        throw CLIError(
          .cannotCreate, "a bank already exists at \(path); delete it to start again")
      }
      let store = try WorldAssembly.createBank(
        global.layout, mandates: set.mandates, clientSecret: systemRandomBytes(32),
        at: try global.clock().now())
      print("Created the bank at \(path) with \(try store.accounts().count) accounts")
    }
  }

  struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Serve the bank over HTTP or HTTPS until SIGINT or SIGTERM.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0: any free one).") var port = 8090
    @OptionGroup var tls: ServerTLSOptions

    func validate() throws { try tls.validate(host: host) }

    func run() async throws {
      let bank = try BankEndpoint(path: global.layout.bankStore.path)
      let host = host
      let clock = try global.clock()
      let configuration = try tls.configuration()
      let scheme = configuration == nil ? "http" : "https"
      try await serveBank(
        bank: bank, host: host, port: port, now: { clock.now() }, tls: configuration
      ) { port in
        FileHandle.standardOutput.write(
          Data("The bank listens on \(scheme)://\(host):\(port)\n".utf8))
      }
    }
  }

  struct Accounts: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List accounts and balances.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let accounts = try BankStore.open(path: global.layout.bankStore.path).accounts()
      if json { return try printJSON(accounts) }
      printTable(
        ["ACCOUNT", "BANK", "HOLDER", "BALANCE", "STATE"],
        accounts.map { [$0.number, $0.bank, $0.holder, $0.balance.description, $0.state] })
    }
  }

  struct Statement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The bank's deductions and refunds of a day.")
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The day (YYYY-MM-DD).", valueName: "date")) var date: String
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
      guard LocalDate(iso: date) != nil else {
        throw ValidationError("--date takes a day as YYYY-MM-DD, not \"\(date)\"")
      }
    }

    func run() async throws {
      let lines = try await BankEndpoint(path: global.layout.bankStore.path).statement(
        on: LocalDate(iso: date)!)
      if json { return try printJSON(lines) }
      printTable(
        ["KEY", "KIND", "AMOUNT", "AT"],
        lines.map { [$0.key, $0.kind.rawValue, $0.amount.description, $0.at.description] })
    }
  }

  struct Fault: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Inject faults into the bank's next calls, list them, or clear them.",
      discussion: """
        Kinds: \(BankFault.Kind.allCases.map(\.rawValue).joined(separator: ", ")).
        insufficient-funds, mandate-revoked and account-closed make deductions fail with that
        reason; unavailable fails a call before the bank does anything; timeout-after-commit
        does the work, then fails the call as a timeout; slow answers after --delay-ms.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "add, list or clear.") var action: String
    @Argument(help: "The fault kind (for add).") var kind: String?
    @Option(help: "Calls to let through before the fault applies.") var after = 0
    @Option(help: "Calls the fault applies to.") var times = 1
    @Option(help: "Delay of a slow answer, in milliseconds.") var delayMs = 2_000

    func validate() throws {
      guard ["add", "list", "clear"].contains(action) else {
        throw ValidationError("the action is add, list or clear, not \"\(action)\"")
      }
      if action == "add" {
        guard let kind, BankFault.Kind(rawValue: kind) != nil else {
          throw ValidationError(
            "add needs a fault kind: \(BankFault.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
          )
        }
      }
      guard after >= 0, times >= 1, delayMs >= 0 else {
        throw ValidationError("--after and --delay-ms must be 0 or more, --times at least 1")
      }
    }

    func run() throws {
      let store = try BankStore.open(path: global.layout.bankStore.path)
      switch action {
      case "add":
        let fault = try store.addFault(
          BankFault.Kind(rawValue: kind!)!, after: after, times: times, delayMilliseconds: delayMs)
        print(
          "Fault \(fault.id): \(fault.kind.rawValue) for \(fault.times) call(s) after \(fault.after)"
        )
      case "clear":
        try store.clearFaults()
        print("No faults")
      default:
        let faults = try store.faults()
        printTable(
          ["ID", "KIND", "AFTER", "TIMES", "DELAY MS"],
          faults.map {
            ["\($0.id)", $0.kind.rawValue, "\($0.after)", "\($0.times)", "\($0.delayMilliseconds)"]
          })
      }
    }
  }
}
