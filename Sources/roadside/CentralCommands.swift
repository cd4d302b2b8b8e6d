import ArgumentParser
import Foundation
import RoadsideCentral
import RoadsideCentralServer
import RoadsideCredentials
import RoadsideDomain
import RoadsideFixtures
import RoadsideHolder
import RoadsideProtocol
import RoadsideScenario
import RoadsideStorage

struct Central: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Administer the central store: licences, points, the change log.",
    subcommands: [
      Init.self, Info.self, LicenceCommand.self, PointsCommand.self, VehicleCommand.self,
      OffenceCommand.self, OfficerCommand.self, TerminalCommand.self, KeysCommand.self,
      ELicenceCommand.self, NoticeCommand.self, UnitDecisionCommand.self, Pay.self, Deduct.self,
      Deductions.self, Reconcile.self,
      Changes.self,
      ConflictsCommand.self,
      AuditCommand.self, Serve.self,
    ])
}

extension Central {
  struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create the central store of the home from a fixture directory.",
      discussion: "Without --fixtures the default set shipped with Roadside is loaded.")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Fixture directory (JSON Lines files).", valueName: "dir"))
    var fixtures: String?

    @Option(help: "Document numbers central allocates to a terminal at a time.")
    var numbersPerRange = NumberRange.standardSize

    @Flag(help: "Print the store summary as JSON.")
    var json = false

    func run() throws {
      let directory =
        fixtures.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? DefaultFixtures.directory
      let location = try global.storeLocation()
      if case .file(let path) = location, FileManager.default.fileExists(atPath: path) {
        throw CLIError(
          .cannotCreate,
          global.storeIsTheHomes
            ? "a central store already exists in \(global.layout.home.path); use another --home, or delete \(path) to start again"
            : "a central store already exists at \(path); use another --store, or delete that file to start again"
        )
      }
      let set = try FixtureLoader().load(directory: directory)
      // Central, the phones and (unless the home has one) the bank, with accounts for the
      // fixtures' mandates and a secret for central's signed requests.
      let world = try WorldAssembly.assemble(
        global.layout, store: location, fixtures: set,
        source: fixtures == nil ? "default" : directory.path,
        clock: try global.clock(), issuerKeySeed: systemRandomBytes(32),
        numbersPerRange: numbersPerRange, bankClientSecret: systemRandomBytes(32))
      let service = world.central
      let phones = world.phones
      // One-time enrolment codes for the fixture fleet, shown here once.
      let enrolments = try service.terminals().map {
        try service.issueEnrolment(
          terminal: $0.id, random: systemRandomBytes(10),
          validHours: EnrolmentCode.defaultValidHours)
      }
      let summary = try service.summary()
      if json { return try printJSON(InitOutput(summary: summary, enrolments: enrolments)) }
      print("Created the central store at \(location)")
      printSummary(summary)
      print(
        field(
          "E-licences",
          "\(phones.issued) issued, \(phones.superseded) superseded, \(phones.pending) under review (phones in \(global.homeDirectory.path)/holders)"
        ))
      printEnrolments(enrolments)
    }
  }

  /// `central init --json`: the store's summary and the enrolment codes issued.
  struct InitOutput: Encodable {
    let summary: StoreSummary
    let enrolments: [IssuedEnrolment]
  }

  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what the central store holds.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let summary = try openCentral(global).summary()
      if json { return try printJSON(summary) }
      print("Central store at \(summary.path)")
      printSummary(summary)
    }
  }

  struct Changes: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List change-log entries after a sequence number (what terminals pull).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Show entries after this sequence number.") var after: Int64 = 0
    @Option(help: "At most this many entries.") var limit: Int = 100
    @Flag(help: "Print JSON, payloads included.") var json = false

    func validate() throws {
      guard after >= 0 else { throw ValidationError("--after must be 0 or more") }
      guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
      let changes = try openCentral(global).changes(after: after, limit: limit)
      if json { return try printJSON(changes) }
      printTable(
        ["SEQ", "AT", "ENTITY", "KEY", "ACTION", "REASON"],
        changes.map {
          [
            String($0.seq), $0.at.description, $0.entity.rawValue, $0.key, $0.action,
            $0.reason ?? "",
          ]
        })
    }
  }
}

func printSummary(_ summary: StoreSummary) {
  let c = summary.counts
  print(field("Fixtures", summary.fixtures ?? "?"))
  print(field("Created", summary.createdAt ?? "?"))
  print(field("Catalogue", "\(summary.catalogueVersion ?? "?") (\(c.offences) offences)"))
  print(field("Class table", summary.classTableVersion ?? "?"))
  print(field("Licences", String(c.licences)))
  let statuses = c.byStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
  print(field("  by status", statuses.joined(separator: ", ")))
  print(field("Vehicles", String(c.vehicles)))
  print(field("Officers", String(c.officers)))
  print(field("Terminals", String(c.terminals)))
  print(field("Decisions", String(c.decisions)))
  print(field("Mandates", "\(c.activeMandates) active"))
  print(field("Change log", "\(c.changes) entries, latest sequence \(c.latestSequence)"))
}

// MARK: - Licences

struct LicenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "licence",
    abstract: "List, show and change licences.",
    subcommands: [
      List.self, Show.self, Suspend.self, Withhold.self, Reinstate.self, Revoke.self, Renew.self,
      ChangeClass.self,
    ])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List licences.")

    @OptionGroup var global: GlobalOptions
    @Option(
      help: ArgumentHelp("Only licences carrying this status code (A, B, D, …).", valueName: "code")
    )
    var status: String?
    @Flag(help: "Only licences with an active bank mandate.") var withMandate = false
    @Option(help: "At most this many licences.") var limit: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
      if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
      var code: StatusCode?
      if let status {
        guard status.count == 1, let parsed = StatusCode(rawValue: status.uppercased()) else {
          throw DomainError(
            .invalidData,
            "unknown licence status code \"\(status)\"; valid codes are \(StatusCode.allCases.map(\.rawValue).joined(separator: " "))"
          )
        }
        code = parsed
      }
      let rows = try openCentral(global).licences(
        LicenceFilter(status: code, withMandate: withMandate, limit: limit))
      if json { return try printJSON(rows) }
      printTable(
        ["LICENCE", "NAME", "CLASSES", "STATUS", "VALID UNTIL", "POINTS", "MANDATE"],
        rows.map {
          [
            $0.number.value, $0.name, $0.classes, $0.status,
            $0.validUntil?.description ?? "long-term",
            String($0.points), $0.mandate ? "yes" : "",
          ]
        })
      print("\(rows.count) licence\(rows.count == 1 ? "" : "s")")
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show one licence: data, status, points, vehicles, mandate, decisions.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The licence number (the holder's 18-character citizen ID number).")
    var number: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let number = try licenceNumber(number)
      let dossier = try openCentral(global).dossier(number)
      if json { return try printJSON(dossier) }
      describe(dossier).forEach { print($0) }
    }
  }

  /// Options shared by the commands that change one licence.
  struct ChangeOptions: ParsableArguments {
    @Argument(help: "The licence number.") var number: String
    @Option(help: "Why (recorded in the change log).") var reason: String?
    @Flag(help: "Print the licence and the change-log entries as JSON.") var json = false
  }

  struct Suspend: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Suspend a licence (暂扣, status D).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ChangeOptions
    @Option(help: ArgumentHelp("Last day of the suspension (YYYY-MM-DD).", valueName: "date"))
    var until: String?

    func run() throws {
      var last: LocalDate?
      if let until {
        guard let date = LocalDate(iso: until) else {
          throw CLIError(.usage, "--until \"\(until)\" is not a date; write it as YYYY-MM-DD")
        }
        last = date
      }
      let outcome = try openCentral(global).suspend(
        try licenceNumber(options.number), until: last, reason: options.reason)
      try report(outcome, "Suspended", json: options.json)
    }
  }

  struct Withhold: LicenceChange {
    static let configuration = CommandConfiguration(abstract: "Withhold a licence (扣留, status U).")
    static let done = "Withheld"
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ChangeOptions

    static func change(_ central: CentralService, _ number: LicenceNumber, reason: String?)
      throws -> AdminOutcome
    { try central.withhold(number, reason: reason) }
  }

  struct Reinstate: LicenceChange {
    static let configuration = CommandConfiguration(
      abstract: "End a suspension or withholding (removes D and U).")
    static let done = "Reinstated"
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ChangeOptions

    static func change(_ central: CentralService, _ number: LicenceNumber, reason: String?)
      throws -> AdminOutcome
    { try central.reinstate(number, reason: reason) }
  }

  struct Revoke: LicenceChange {
    static let configuration = CommandConfiguration(abstract: "Revoke a licence (吊销, status F).")
    static let done = "Revoked"
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ChangeOptions

    static func change(_ central: CentralService, _ number: LicenceNumber, reason: String?)
      throws -> AdminOutcome
    { try central.revoke(number, reason: reason) }
  }

  struct Renew: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Renew a licence (换证): next validity term, new e-licence epoch.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ChangeOptions

    func run() throws {
      let outcome = try openCentral(global).renew(
        try licenceNumber(options.number), reason: options.reason)
      if !options.json, outcome.licence.status.contains(.deregistered) {
        print(
          "Not renewed: licence \(outcome.licence.number) expired on \(outcome.licence.validity.validUntil!), more than one year ago; it is cancelled (注销, status G; 公安部令第162号 §79(八)), and driving resumes only after the exam"
        )
        printChanges(outcome)
        return
      }
      try report(outcome, "Renewed", json: options.json)
    }
  }

  struct ChangeClass: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Change the permitted classes (new e-licence epoch).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: ChangeOptions
    @Option(help: ArgumentHelp("The new classes, such as C1D or C1,E.", valueName: "classes"))
    var to: String

    func run() throws {
      let classes = try LicenceClass.parseList(to)
      let outcome = try openCentral(global).changeClasses(
        try licenceNumber(options.number), to: classes, reason: options.reason)
      try report(outcome, "Changed the classes of", json: options.json)
    }
  }
}

/// A `central licence` command that changes one licence with one call of the service and
/// reports the outcome ("Withheld licence …", its change-log entries, or `--json`).
protocol LicenceChange: ParsableCommand {
  var global: GlobalOptions { get }
  var options: LicenceCommand.ChangeOptions { get }
  /// The report's first word: `Withheld`, `Reinstated`, …
  static var done: String { get }
  static func change(_ central: CentralService, _ number: LicenceNumber, reason: String?)
    throws -> AdminOutcome
}

extension LicenceChange {
  func run() throws {
    let central = try openCentral(global)
    let outcome = try Self.change(
      central, try licenceNumber(options.number), reason: options.reason)
    try report(outcome, Self.done, json: options.json)
  }
}

func report(_ outcome: AdminOutcome, _ verb: String, json: Bool) throws {
  if json { return try printJSON(outcome) }
  let l = outcome.licence
  print(
    "\(verb) licence \(l.number): status \(l.status.code) \(l.status.chinese), classes \(l.classes.code), epoch \(l.epoch)"
  )
  printChanges(outcome)
}

/// The change-log entries an administrative change appended, one line each.
func printChanges(_ outcome: AdminOutcome) {
  for change in outcome.changes {
    print("  change \(change.seq): \(change.entity.rawValue) \(change.key) (\(change.action))")
  }
}

// MARK: - Points

struct PointsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "points", abstract: "Work on the points ledger.",
    subcommands: [Reduce.self, Education.self])

  struct Reduce: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Take points off by study (at most 6 a cycle, 公安部令第163号 §25).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: LicenceCommand.ChangeOptions
    @Option(help: "Points to take off (1–6).") var points: Int

    func validate() throws {
      guard (1...6).contains(points) else {
        throw ValidationError("--points must be 1 to 6; study reduces at most 6 points a cycle")
      }
    }

    func run() throws {
      let service = try openCentral(global)
      let number = try licenceNumber(options.number)
      let outcome = try service.reducePoints(number, points: points, reason: options.reason)
      if options.json { return try printJSON(outcome) }
      let dossier = try service.dossier(number)
      print(
        "Reduced points of licence \(number): now \(dossier.points.total) in cycle \(dossier.points.cycleStart) – \(dossier.points.cycleLastDay)"
      )
      printChanges(outcome)
    }
  }
}

// MARK: - Vehicles, offences, officers, terminals

struct VehicleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vehicle", abstract: "Look vehicles up.", subcommands: [Show.self])

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a vehicle by plate.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The plate, such as 京A12345.") var plate: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let vehicle = try openCentral(global).vehicle(try Plate(plate))
      if json { return try printJSON(vehicle) }
      print("Vehicle \(vehicle.plate)")
      print(
        field("Needs class", "\(vehicle.vehicleClass.rawValue) \(vehicle.vehicleClass.chinese)"))
      print(field("Model", vehicle.model))
      print(field("Owner", vehicle.owner.value))
      print(field("Registered", vehicle.registered.description))
    }
  }
}

struct OffenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "offence", abstract: "The offence catalogue.", subcommands: [List.self, Show.self])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the offence catalogue.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only offences scoring this many points.") var points: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
      if let points, ![0, 1, 3, 6, 9, 12].contains(points) {
        throw ValidationError("--points must be 12, 9, 6, 3, 1 or 0")
      }
    }

    func run() throws {
      let offences = try openCentral(global).offences().filter {
        points == nil || $0.points == points
      }
      if json { return try printJSON(offences) }
      printTable(
        ["CODE", "POINTS", "FINE (YUAN)", "DEFAULT", "MEASURE", "OFFENCE"],
        offences.map {
          [
            $0.code, String($0.points),
            "\($0.fine.warningAllowed ? "warning or " : "")\($0.fine.minimumYuan)–\($0.fine.maximumYuan)",
            String($0.fine.defaultYuan), $0.measure.english, "\($0.chinese) / \($0.english)",
          ]
        })
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show one offence with its legal basis.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The offence code, such as 0601.") var code: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let service = try openCentral(global)
      let offences = try service.offences()
      let catalogue = OffenceCatalogue(
        version: service.catalogue.version, province: service.catalogue.province, offences: offences
      )
      let offence = try catalogue.require(code)
      if json { return try printJSON(offence) }
      print("Offence \(offence.code): \(offence.chinese)")
      print(field("English", offence.english))
      print(field("Points", "\(offence.points) (\(offence.pointsBasis))"))
      print(
        field(
          "Fine",
          "\(offence.fine.warningAllowed ? "warning or " : "")\(offence.fine.minimumYuan)–\(offence.fine.maximumYuan) yuan (\(offence.fine.basis))"
        ))
      print(field("Default", "\(offence.fine.defaultYuan) yuan (\(offence.fine.defaultBasis))"))
      print(field("Licence", "\(offence.measure.chinese) (\(offence.measure.english))"))
      print(field("Procedure", "\(offence.defaultProcedure.rawValue) at the default fine"))
    }
  }
}

struct OfficerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "officer", abstract: "Officers known to the central store.",
    subcommands: [List.self, Unlock.self, SetPIN.self])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List officers.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON (PIN hashes included).") var json = false

    func run() throws {
      let officers = try openCentral(global).officers()
      if json { return try printJSON(officers) }
      printTable(
        ["ID", "NAME", "UNIT", "PIN", "STATE"],
        officers.map {
          [
            $0.id, $0.name, $0.unit,
            $0.pinHash == nil ? "not set" : $0.pinMustChange ? "initial" : "chosen",
            $0.lockedAt.map { "locked since \($0)" } ?? "active",
          ]
        })
    }
  }

  struct Unlock: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Unlock an officer locked out after 5 wrong PINs, on a terminal or at central (takes effect when terminals sync)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The officer's police number.") var id: String
    @Option(help: "Why (recorded in the change log).") var reason: String?

    func run() throws {
      let officer = try openCentral(global).unlockOfficer(id, reason: reason)
      print(
        "Unlocked officer \(officer.id) (generation \(officer.unlockGeneration)); terminals clear the lockout when they sync"
      )
    }
  }

  struct SetPIN: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set-pin",
      abstract:
        "Set an officer's initial 6-digit PIN (read from standard input or a prompt); they must change it at first login."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The officer's police number.") var id: String
    @Option(help: "Why (recorded in the change log).") var reason: String?

    func run() throws {
      let service = try openCentral(global)
      let pin = try readPIN()
      let hash: PINHash
      do {
        hash = try PINHash(pin: pin, salt: systemRandomBytes(16))
      } catch let error as PINError {
        throw CLIError(.dataError, error.description)
      }
      _ = try service.setOfficerPIN(id, hash: hash.encoded, reason: reason)
      print(
        "Set an initial PIN for officer \(id); terminals learn it when they sync, and the officer must choose a new one at first login"
      )
    }
  }
}

struct TerminalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "terminal", abstract: "Terminals known to the central store.",
    subcommands: [List.self, Add.self, Reset.self, Revoke.self, Allocate.self])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List terminals.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let terminals = try openCentral(global).terminals()
      if json { return try printJSON(terminals) }
      printTable(
        ["ID", "STATUS", "REGISTERED", "UNIT"],
        terminals.map {
          [$0.id, $0.status.rawValue, $0.registeredAt?.description ?? "no", $0.unit]
        })
    }
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add a terminal to the fleet.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The terminal id, T- then capitals, digits and dashes.") var id: String
    @Option(help: "The unit that uses it.") var unit: String
    @Option(help: "Why (recorded in the change log).") var reason: String?
    @OptionGroup var validity: EnrolmentValidity

    func run() throws {
      let central = try openCentral(global)
      let terminal = try central.addTerminal(id: id, unit: unit, reason: reason)
      let enrolment = try central.issueEnrolment(
        terminal: terminal.id, random: systemRandomBytes(10), validHours: validity.validHours)
      print("Added terminal \(terminal.id) (\(terminal.unit))")
      printEnrolments([enrolment])
    }
  }

  struct Reset: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Start a terminal over with a new enrolment code.",
      discussion:
        "The key bound so far stops working at once (a lost or wiped device can no longer sign), its unused document numbers are retired, and a revoked terminal's id is active again, with no key until a new device enrols with the code. Records the old device never pushed cannot arrive afterwards: sync it first if it is at hand."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The terminal id.") var id: String
    @Option(help: "Why (recorded in the change log).") var reason: String?
    @OptionGroup var validity: EnrolmentValidity

    func run() throws {
      let enrolment = try openCentral(global).resetTerminal(
        id: id, random: systemRandomBytes(10), validHours: validity.validHours, reason: reason)
      print("Reset terminal \(id): its old key no longer works")
      printEnrolments([enrolment])
    }
  }

  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Report a terminal lost: every later upload and pull from it is refused.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The terminal id.") var id: String
    @Option(help: "Why (recorded in the change log).") var reason: String?

    func run() throws {
      let terminal = try openCentral(global).revokeTerminal(id: id, reason: reason)
      print("Revoked terminal \(terminal.id) at \(terminal.revokedAt?.description ?? "")")
    }
  }
}

extension Central {
  struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Serve the central store over HTTP or HTTPS (the v1 sync protocol) until SIGINT or SIGTERM."
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0 picks a free one and prints it).") var port = 8080
    @OptionGroup var tls: ServerTLSOptions
    @Option(
      help: ArgumentHelp(
        "Requests a second each terminal may make, after a burst of 20 seconds' worth (0: no limit).",
        valueName: "n"))
    var rateLimit = 10
    @OptionGroup var connections: ConnectionOptions

    func validate() throws {
      guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
      guard (0...10_000).contains(rateLimit) else {
        throw ValidationError("--rate-limit must be 0 (no limit) to 10000 requests a second")
      }
      try tls.validate(host: host)
    }

    func run() async throws {
      let connections = try connections.count(onPostgreSQL: global.storeLocation().isPostgreSQL)
      let location = try centralStore(global)
      let endpoint = try CentralEndpoint(
        location: location, clock: try global.clock(),
        rateLimiter: rateLimit == 0
          ? nil : RateLimiter(burst: Double(20 * rateLimit), perSecond: Double(rateLimit)),
        connections: connections)
      let host = host
      let configuration = try tls.configuration()
      let scheme = configuration == nil ? "http" : "https"
      try await serve(endpoint: endpoint, host: host, port: port, tls: configuration) { port in
        FileHandle.standardOutput.write(
          Data(
            "Serving the central store \(global.storeIsTheHomes ? "of \(global.layout.home.path)" : "at \(location)") on \(scheme)://\(host):\(port)\n"
              .utf8))
      }
    }
  }
}

extension Central {
  struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "conflicts", abstract: "List the conflicts central detected.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this terminal's.") var terminal: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let conflicts = try openCentral(global).conflicts(terminal: terminal)
      if json { return try printJSON(conflicts) }
      printConflicts(conflicts)
    }
  }

  struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "audit", abstract: "Verify the audit chain a terminal pushed: gaps and edits.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The terminal id.") var terminal: String

    func run() throws {
      let (entries, verdict) = try openCentral(global).verifyAudit(terminal: terminal)
      print("Terminal \(terminal): \(entries.count) audit entries at central; chain \(verdict)")
      if case .intact = verdict { return }
      throw CLIError(.dataError, "the audit chain of \(terminal) is not intact: \(verdict)")
    }
  }
}

struct KeysCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keys", abstract: "The issuer key ring that signs e-licences.",
    subcommands: [List.self, Rotate.self, Retire.self, Revoke.self])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List issuer keys (public parts).")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let keys = try openCentral(global).issuerKeys()
      if json { return try printJSON(keys) }
      printTable(
        ["KID", "STATE", "VALID FROM", "VALID UNTIL"],
        keys.map {
          [$0.kid, $0.state.rawValue, $0.validFrom.description, $0.validUntil.description]
        })
    }
  }

  struct Rotate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Start a new signing key; the active one is retired (it keeps verifying what it signed).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The new key's id (letters, digits, dashes).") var kid: String
    @Option(help: "Days the key may sign.") var days: Int = 1095
    @Option(help: "Why (recorded in the change log).") var reason: String?

    func run() throws {
      let key = try openCentral(global).rotateIssuerKey(
        kid: kid, seed: systemRandomBytes(32), validDays: days, reason: reason)
      print(
        "Issuer key \(key.kid) is active until \(key.validUntil); terminals learn it when they sync"
      )
    }
  }

  struct Retire: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Retire a key: it signs nothing more.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The key id.") var kid: String
    @Option(help: "Why (recorded in the change log).") var reason: String?

    func run() throws {
      let key = try openCentral(global).retireIssuerKey(kid, reason: reason)
      print("Retired issuer key \(key.kid); what it signed before \(key.validUntil) still verifies")
    }
  }

  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Revoke a key: nothing it signed verifies.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The key id.") var kid: String
    @Option(help: "Why (recorded in the change log).") var reason: String?

    func run() throws {
      let key = try openCentral(global).revokeIssuerKey(kid, reason: reason)
      print("Revoked issuer key \(key.kid); nothing it signed verifies any more")
    }
  }
}

/// How long an enrolment code that `terminal add` or `terminal reset` shows stays valid.
struct EnrolmentValidity: ParsableArguments {
  @Option(help: "Hours the enrolment code stays valid (1–720).")
  var validHours = EnrolmentCode.defaultValidHours

  func validate() throws {
    guard (1...720).contains(validHours) else {
      throw ValidationError("--valid-hours must be 1 to 720, not \(validHours)")
    }
  }
}

/// Shows enrolment codes, once: central keeps only their hashes.
func printEnrolments(_ enrolments: [IssuedEnrolment]) {
  guard !enrolments.isEmpty else { return }
  print(
    "Enrolment codes, shown once (central keeps only their hashes); enrol each device with 'roadside terminal init --id T --central … --enrol CODE':"
  )
  for enrolment in enrolments {
    print("  \(enrolment.terminal)  \(enrolment.code)  valid until \(enrolment.expiresAt)")
  }
}

/// `--connections`: how many requests a central node runs against its store at once.
struct ConnectionOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Requests each central node runs against a PostgreSQL store at once, each on its own connection (default 4; a SQLite file takes 1).",
      valueName: "n"))
  var connections: Int?

  func validate() throws {
    if let connections, !(1...64).contains(connections) {
      throw ValidationError("--connections must be 1 to 64")
    }
  }

  /// The connections for the store (nil: the endpoint's default). A SQLite file has one
  /// writer, so more than one for it is a usage error.
  func count(onPostgreSQL: Bool) throws -> Int? {
    guard let connections, !onPostgreSQL else { return connections }
    guard connections == 1 else {
      throw CLIError(
        .usage,
        "--connections \(connections) needs a PostgreSQL store; a SQLite file has one writer, so a node serves it over one connection"
      )
    }
    return nil
  }
}
