import ArgumentParser
import AsyncHTTPClient
import Foundation
import RoadsideCentral
import RoadsideCentralServer
import RoadsideCredentials
import RoadsideDomain
import RoadsideProtocol
import RoadsideServing
import RoadsideStorage
import RoadsideSync
import RoadsideTerminal

/// Options of commands that act on one terminal of the home.
struct TerminalOption: ParsableArguments {
  @Option(help: ArgumentHelp("The terminal id, such as T-BJ-0001.", valueName: "id"))
  var terminal: String
}

func openTerminal(_ global: GlobalOptions, _ id: String) throws -> Terminal {
  try Terminal.open(
    path: global.layout.terminalStore(id).path, terminal: id, clock: try global.clock(),
    identifiers: SystemIdentifiers())
}

/// The HTTP client for `url`: for https://, one that trusts `ca` (else the system's roots).
func httpClient(for url: String, trusting ca: String?) throws -> HTTPClient {
  guard url.hasPrefix("https://") else { return .shared }
  do {
    return try TLSFiles.client(trusting: ca)
  } catch let error as TLSFileError {
    throw CLIError(.dataError, error.description)
  }
}

/// The transport to central named by `central`: `local` for the home's own central store
/// (in-process), else an HTTP or HTTPS base URL. For HTTPS, `--ca` or else the terminal's
/// kept `central-ca.pem` (`trusting`) is the certificate trusted.
func transport(for central: String, _ global: GlobalOptions, trusting kept: String? = nil)
  throws -> any CentralTransport
{
  if central == "local" {
    let location = try global.storeLocation()
    if case .file(let path) = location, !FileManager.default.fileExists(atPath: path) {
      throw CLIError(
        .notFound,
        "no central store in \(global.layout.home.path) for --central local; run 'roadside central init' first"
      )
    }
    return InProcessTransport(
      endpoint: try CentralEndpoint(location: location, clock: try global.clock()))
  }
  guard let url = URL(string: central), url.scheme == "http" || url.scheme == "https",
    url.host != nil
  else {
    throw CLIError(
      .usage,
      "--central \"\(central)\" is neither 'local' nor an http:// or https:// URL such as http://127.0.0.1:8080"
    )
  }
  return HTTPTransport(
    baseURL: central, client: try httpClient(for: central, trusting: global.ca ?? kept))
}

struct TerminalGroup: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "terminal", abstract: "Set up an officer terminal.", subcommands: [Init.self])

  struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Create a terminal in the home: its key pair, its cache, its registration with central.")

    @OptionGroup var global: GlobalOptions
    @Option(
      help: ArgumentHelp("The terminal id central knows, such as T-BJ-0001.", valueName: "id"))
    var id: String
    @Option(
      help: ArgumentHelp(
        "'local' (this home's central store) or central's URL.", valueName: "central"))
    var central: String
    @Option(
      help: ArgumentHelp(
        "The one-time enrolment code central showed for this terminal.", valueName: "code"))
    var enrol: String
    @Flag(help: "Do not pull the cache after registering.") var noSync = false

    func validate() throws {
      guard EnrolmentCode.normalised(enrol) != nil else {
        throw ValidationError(
          "--enrol takes the 16-character code central showed (XXXX-XXXX-XXXX-XXXX), not \"\(enrol)\""
        )
      }
    }

    func run() async throws {
      let transport = try transport(for: central, global)
      let terminal = try await Terminal.initialise(
        path: global.layout.terminalStore(id).path, terminal: id, centralName: central,
        transport: transport, enrolmentCode: enrol, keySeed: systemRandomBytes(32),
        clock: try global.clock(), identifiers: SystemIdentifiers())
      let identity = try terminal.store.identity()
      if let ca = global.ca, central.hasPrefix("https://") {
        // Kept beside the terminal's file, so that every later sync trusts the same one.
        try PrivateFiles.write(
          try Data(contentsOf: URL(fileURLWithPath: ca)), toPath: global.layout.terminalCA(id).path)
      }
      print("Terminal \(identity.terminal) (\(identity.unit)) registered with \(central)")
      if !noSync {
        let report = try await terminal.pull(transport: transport, progress: progressPrinter())
        print(
          "Pulled \(report.changes) changes in \(report.batches) batches; cursor \(report.cursor)")
      }
    }
  }
}

/// Prints pull progress on a TTY (standard error), nothing otherwise.
func progressPrinter() -> (Int64, Int64) -> Void {
  guard isatty(STDERR_FILENO) != 0 else { return { _, _ in } }
  return { cursor, latest in
    let percent = latest > 0 ? Int(cursor * 100 / latest) : 100
    FileHandle.standardError.write(
      Data("\rpulling: \(cursor) of \(latest) changes (\(percent) %)".utf8))
    if cursor >= latest { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}

struct Sync: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Push the terminal's outbox to central, then pull its cache up to date.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var target: TerminalOption
  @Option(help: "Changes per pull batch (1–5000).") var batch: Int = 1_000
  @Option(help: "Records per push batch (1–5000).") var pushBatch: Int = 500
  @Option(help: "Attempts per push batch before giving up (records stay in the outbox).")
  var attempts: Int = 5
  @Option(
    help: ArgumentHelp(
      "Sync through this central node instead of the terminal's own URL (another node of the same central store).",
      valueName: "url"))
  var via: String?

  func validate() throws {
    if let via, !(via.hasPrefix("http://") || via.hasPrefix("https://")) {
      throw ValidationError("--via must be an http:// or https:// URL of a central node")
    }
    guard (1...ProtocolV1.maximumBatch).contains(batch) else {
      throw ValidationError("--batch must be 1 to \(ProtocolV1.maximumBatch)")
    }
    guard (1...ProtocolV1.maximumBatch).contains(pushBatch) else {
      throw ValidationError("--push-batch must be 1 to \(ProtocolV1.maximumBatch)")
    }
    guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
  }

  func run() async throws {
    let lock = try SyncLock(path: global.layout.terminalStore(target.terminal).path + ".sync-lock")
    defer { lock.release() }
    let terminal = try openTerminal(global, target.terminal)
    let kept = global.layout.terminalCA(target.terminal).path
    let transport = try transport(
      for: via ?? terminal.store.identity().central, global,
      trusting: FileManager.default.fileExists(atPath: kept) ? kept : nil)
    // A failed push does not stop the pull: the terminal still learns of suspensions and
    // revocations; the push's error decides the exit code afterwards.
    var pushFailure: (any Error)?
    do {
      let pushed = try await terminal.push(
        transport: transport, batchSize: pushBatch, attempts: attempts)
      let total = pushed.accepted + pushed.duplicates + pushed.rejected + pushed.conflicts
      print(
        "Pushed \(total) records: \(pushed.accepted) accepted, \(pushed.duplicates) duplicate, \(pushed.rejected) rejected, \(pushed.conflicts) conflict"
      )
    } catch {
      pushFailure = error
      print("Push failed; the records stay in the outbox. Pulling anyway.")
    }
    let report = try await terminal.pull(
      transport: transport, batchSize: batch, progress: progressPrinter())
    print(
      "Pulled \(report.changes) changes in \(report.batches) batch\(report.batches == 1 ? "" : "es"); cursor \(report.cursor) of \(report.latest)"
    )
    if let pushFailure { throw pushFailure }
  }
}

struct Login: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Log an officer in on a terminal (PIN from standard input or a prompt).",
    discussion:
      "The PIN is never a flag: it is read from standard input, or asked for without echo on a terminal."
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var target: TerminalOption
  @Option(help: ArgumentHelp("The officer's police number.", valueName: "id")) var officer: String

  func run() throws {
    let terminal = try openTerminal(global, target.terminal)
    let pin = try readPIN()
    do {
      try terminal.login(officer: officer, pin: pin)
    } catch let error as TerminalError where error.kind == .pinChangeRequired {
      try chooseNewPIN(terminal, pin: pin, after: error)
      print(
        "Officer \(officer) chose a new PIN and logged in on \(target.terminal); central and the unit's other terminals learn it at the next sync; the session ends after \(Terminal.sessionTimeoutSeconds / 60) minutes without activity"
      )
      return
    }
    print(
      "Officer \(officer) logged in on \(target.terminal); the session ends after \(Terminal.sessionTimeoutSeconds / 60) minutes without activity"
    )
  }

  /// At first login: the new PIN twice, asked again on a terminal when weak or mistyped.
  private func chooseNewPIN(_ terminal: Terminal, pin: String, after error: TerminalError)
    throws
  {
    let interactive = isatty(STDIN_FILENO) != 0
    if interactive { print("\(error.description). Choose a new 6-digit PIN.") }
    let missing =
      "officer \(officer) must choose a new PIN at first login; give it twice on the next lines of standard input, or run from a terminal to be asked"
    while true {
      let first = try readPIN(prompt: "New PIN: ", missing: missing)
      let again = try readPIN(prompt: "New PIN again: ", missing: missing)
      do {
        guard first == again else {
          throw CLIError(
            .dataError, "the two new PINs differ; log in again and type the same PIN twice")
        }
        try terminal.login(officer: officer, pin: pin, newPIN: first)
        return
      } catch let error as CLIError where interactive {
        print(error.description)
      } catch let error as TerminalError where interactive && error.kind == .badInput {
        print(error.description)
      }
    }
  }
}

/// Reads a PIN: without echo from a TTY, else the next line of standard input.
func readPIN(
  prompt: String = "PIN: ",
  missing: String = "no PIN on standard input; pipe it in or run from a terminal to be asked"
) throws -> String {
  if isatty(STDIN_FILENO) != 0, let entered = getpass(prompt) {
    return String(cString: entered)
  }
  guard let line = readLine(strippingNewline: true) else { throw CLIError(.usage, missing) }
  return line.trimmingCharacters(in: .whitespaces)
}

struct Logout: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "End the officer session on a terminal.")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var target: TerminalOption

  func run() throws {
    try openTerminal(global, target.terminal).logout()
    print("Logged out of \(target.terminal)")
  }
}

struct Lookup: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Look a licence up in the terminal's cache, as the officer's recorder shows it.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var target: TerminalOption
  @Argument(help: "The licence number.") var number: String
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    let number = try licenceNumber(number)
    let result = try openTerminal(global, target.terminal).lookup(number)
    if json { return try printJSON(result) }
    describe(result).forEach { print($0) }
  }
}

func describe(_ r: LookupResult) -> [String] {
  var lines: [String] = []
  let age = r.cacheAgeSeconds.map(describeAge) ?? "never synced"
  guard let l = r.licence, let points = r.points else {
    lines.append(
      "Licence \(r.number): not in this terminal's cache — UNDETERMINED (cannot tell; never report it as invalid)"
    )
    lines.append(field("Cache", "last sync \(r.lastSync?.description ?? "never"), \(age) old"))
    return lines
  }
  lines.append("Licence \(l.number)  \(l.name) (\(l.gender.chinese), born \(l.birthDate))")
  lines.append(
    field("Classes", l.classes.map { "\($0.rawValue) \($0.chinese)" }.joined(separator: ", ")))
  lines.append(
    field(
      "Validity",
      "\(l.validity.display) (\(l.validity.term.rawValue))\(r.expired == true ? " — EXPIRED" : "")")
  )
  lines.append(field("Status", "\(l.status.code) \(l.status.chinese) (\(l.status.english))"))
  lines.append(field("Drive today", r.permitsDriving == true ? "yes" : "no"))
  lines.append(
    field(
      "Points",
      "\(points.total) of 12 in cycle \(points.cycleStart) – \(points.cycleLastDay)"
        + (points.provisional > 0 ? " (\(points.provisional) provisional, not yet synced)" : "")))
  if r.unpaidDecisions.isEmpty {
    lines.append(field("Unprocessed", "none"))
  } else {
    for (i, d) in r.unpaidDecisions.enumerated() {
      lines.append(
        field(
          i == 0 ? "Unprocessed" : "",
          "\(d.number) \(d.offence) \(d.decidedOn) fine \(d.fine.yuanText) unpaid"))
    }
  }
  for (i, v) in r.pendingViolations.enumerated() {
    lines.append(
      field(
        i == 0 ? "Recorded" : "",
        "\(v.offence) \(v.plate) at \(v.at) (\(v.points) pt, not yet decided)"))
  }
  for (i, instruction) in r.instructions.enumerated() {
    lines.append(field(i == 0 ? "OFFICER" : "", instruction))
  }
  lines.append(field("Vehicles", r.vehicles.isEmpty ? "none" : r.vehicles.joined(separator: " ")))
  lines.append(field("E-licence", "epoch \(l.epoch)"))
  lines.append(
    field(
      "Cache",
      "last sync \(r.lastSync?.description ?? "never"), \(age) old\(r.cacheStale ? " — STALE (over \(Terminal.stalenessBudgetSeconds / 3600) h): status is UNDETERMINED" : "")"
    ))
  lines.append(field("Officer", "\(r.officer) on \(r.terminal) at \(r.at)"))
  return lines
}

func describeAge(_ seconds: Int64) -> String {
  if seconds < 120 { return "\(seconds) s" }
  if seconds < 7_200 { return "\(seconds / 60) min" }
  if seconds < 172_800 { return "\(seconds / 3600) h" }
  return "\(seconds / 86_400) days"
}

struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show a terminal's sync state: cursor, last sync, cache age, outbox, conflicts.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var target: TerminalOption
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    let s = try openTerminal(global, target.terminal).status()
    if json { return try printJSON(s) }
    print("Terminal \(s.terminal) (\(s.unit))\(s.revoked ? " — REVOKED by central" : "")")
    print(field("Central", s.central))
    print(field("Cursor", "\(s.cursor) of \(s.centralLatest) known at last sync"))
    print(field("Last sync", s.lastSuccessAt?.description ?? "never"))
    print(
      field(
        "Cache age", (s.cacheAgeSeconds.map(describeAge) ?? "—") + (s.cacheStale ? " (stale)" : ""))
    )
    if let error = s.lastError { print(field("Last error", error)) }
    print(field("Outbox", "\(s.outboxDepth) waiting"))
    print(field("Conflicts", "\(s.openConflicts) open"))
    print(field("Officer", s.officer ?? "nobody logged in"))
    print(
      field(
        "Cached",
        s.cached.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    )
  }
}

struct Audit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the terminal's hash-chained audit log and check the chain.")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var target: TerminalOption
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    let log = try openTerminal(global, target.terminal).auditLog()
    if json { return try printJSON(log) }
    printTable(
      ["SEQ", "AT", "OFFICER", "ACTION", "SUBJECT", "RESULT"],
      log.map { [String($0.seq), $0.at.description, $0.officer, $0.action, $0.subject, $0.result] })
    print("chain: \(AuditChain.verify(log))")
  }
}

struct Conflicts: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "List the conflicts central reported for this terminal (--all: every terminal's it relayed).")

  @OptionGroup var global: GlobalOptions
  @OptionGroup var target: TerminalOption
  @Flag(help: "Include other terminals' conflicts.") var all = false
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    let conflicts = try openTerminal(global, target.terminal).store.conflicts(all: all)
    if json { return try printJSON(conflicts) }
    printConflicts(conflicts)
  }
}

func printConflicts(_ conflicts: [ConflictReport]) {
  printTable(
    ["ID", "KIND", "TERMINAL", "LICENCE", "DETECTED", "RESOLUTION"],
    conflicts.map {
      [
        $0.id, $0.kind.rawValue, $0.terminal, $0.licence ?? "", $0.detectedAt.description,
        $0.resolution,
      ]
    })
  print("\(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s")")
}

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Verify an e-licence code offline and give the verdict.",
    discussion: """
      The code comes as the argument, or from standard input with '-'. Exit codes: 0 VALID,
      1 INVALID, 2 UNDETERMINED, 64 usage, 65 unreadable code; 77 without an officer session.
      """)

  @OptionGroup var global: GlobalOptions
  @OptionGroup var target: TerminalOption
  @Option(help: ArgumentHelp("The class the vehicle requires, such as C1.", valueName: "class"))
  var vehicle: String?
  @Option(help: "The challenge this terminal offered the phone.") var nonce: String?
  @Option(help: "Freshness window in seconds.") var window: Int64 = 60
  @Option(help: "Clock-skew leeway in seconds.") var leeway: Int64 = 30
  @Option(
    help: ArgumentHelp(
      "Hours a synced cache may be relied on for status-dependent conclusions.", valueName: "hours"
    ))
  var stalenessBudget: Int64 = Terminal.stalenessBudgetSeconds / 3600
  @Flag(help: "Print JSON.") var json = false
  @Argument(help: "The code, or - to read it from standard input.") var code: String

  func validate() throws {
    guard window > 0, leeway >= 0 else {
      throw ValidationError("--window must be positive and --leeway 0 or more")
    }
    guard stalenessBudget > 0 else {
      throw ValidationError("--staleness-budget must be a positive number of hours")
    }
  }

  func run() throws {
    let vehicleClass = try vehicle.map { try LicenceClass(code: $0) }
    var text = code
    if code == "-" {
      guard let line = readLine(strippingNewline: true) else {
        throw CLIError(.usage, "no code on standard input")
      }
      text = line
    }
    let report = try openTerminal(global, target.terminal).verify(
      text.trimmingCharacters(in: .whitespaces), vehicle: vehicleClass, nonce: nonce,
      policy: FreshnessPolicy(windowSeconds: window, leewaySeconds: leeway),
      stalenessBudgetSeconds: stalenessBudget * 3600)
    if json {
      try printJSON(report)
    } else {
      print(report.verdict.sentence)
      for reason in report.verdict.reasons { print("  \(reason.code): \(reason.sentence)") }
      if let licence = report.licence { print(field("Licence", licence)) }
      print(
        field("Cache", report.cacheAgeSeconds.map { "\(describeAge($0)) old" } ?? "never synced"))
    }
    let unreadable = ["malformed", "unsupported_version"]
    switch report.verdict.outcome {
    case .valid: return
    case .invalid:
      throw ExitCode(report.verdict.reasons.contains { unreadable.contains($0.code) } ? 65 : 1)
    case .undetermined: throw ExitCode(2)
    }
  }
}

/// One `sync` per terminal at a time: an exclusive lock on a file beside the terminal's
/// store, released when the process ends (even when killed). A second `sync` is refused
/// at once with exit 75 rather than racing the first and misreading its changes.
final class SyncLock {
  let descriptor: Int32

  init(path: String) throws {
    guard FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent)
    else {
      descriptor = -1
      return  // no terminal here: openTerminal reports it
    }
    descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw CLIError(.ioError, "cannot open the sync lock \(path)")
    }
    if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
      close(descriptor)
      throw CLIError(
        .busy,
        "another sync of this terminal is running; wait for it to finish, then sync again")
    }
  }

  func release() {
    guard descriptor >= 0 else { return }
    flock(descriptor, LOCK_UN)
    close(descriptor)
  }
}
