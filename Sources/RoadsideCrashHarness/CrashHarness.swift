public import Foundation
import RoadsideDomain
public import RoadsidePostgres
import RoadsideScenario
import RoadsideSpawn
import RoadsideStorage

/// What a crash-harness run did.
public struct CrashHarnessReport: Sendable, Equatable {
  public let cycles: Int
  public let kills: Int
  /// Stops whose `record` exited 0: shown to the officer, so they must reach central.
  public let acknowledged: Int
  /// The terminal's records at central at the end.
  public let records: Int
  public let settled: Int
  /// Each violation found after a kill, at most a little over 20 (the run stops there).
  public let violations: [String]

  public var summary: String {
    "\(cycles) cycles, \(kills) kills, each followed by a restart, the work finished and the invariants checked; \(acknowledged) stops acknowledged to the officer, \(records) records at central, \(settled) deductions settled; \(violations.count) violations"
  }
}

/// The harness could not set its world up, or could not bring a server back.
public struct CrashHarnessError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// `central init` or `terminal init` failed in the harness home.
    case setup
    /// The central server did not come back after a kill.
    case serverUnavailable
  }

  public let kind: Kind
  public let description: String

  public init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}

/// Real processes of the `roadside` binary killed with SIGKILL at random moments —
/// terminals recording stops, pulling and pushing; central applying pushes and driving
/// deductions — each restarted, the work finished, and the invariants checked
/// (``Invariants``): PRAGMA integrity_check on every file; every stop shown to the officer
/// (a `record` that exited 0) present at central exactly once; the outbox and central's
/// records equal; the cache equal to central at its cursor; every decision charged at most
/// once, central and the bank agreeing key by key and no deduction left open.
///
/// The harness drives the binary as its operator would, through its commands and their
/// output, and reads the files only to check them.
public struct CrashHarness: Sendable {
  /// The `roadside` binary to run.
  public let binary: URL
  /// An empty folder for the world (central, bank and terminal T-BJ-0001).
  public let home: URL
  public let kills: Int
  public let seed: UInt64
  /// The empty PostgreSQL database central lives in, or nil for the home's SQLite file.
  public let store: PostgresURL?
  /// `central serve` processes on the store: each is killed in its turn, and each sync goes
  /// through one of them chosen at random (`sync --via`).
  public let nodes: Int

  public init(
    binary: URL, home: URL, kills: Int, seed: UInt64, store: PostgresURL? = nil, nodes: Int = 1
  ) {
    self.binary = binary
    self.home = home
    self.kills = kills
    self.seed = seed
    self.store = store
    self.nodes = max(1, nodes)
  }

  /// Central's store, opened for the checks.
  func openCentral() throws -> any SQLDatabase {
    if let store { return try PostgresDatabase(store) }
    return try Connection(path: HomeLayout(home: home).centralStore.path)
  }

  /// Runs until `kills` kills have landed (or more than 20 violations were found).
  public func run() async throws -> CrashHarnessReport {
    let binary = self.binary
    let home = self.home
    let kills = self.kills
    let seed = self.seed
    // The store reaches the children in ROADSIDE_STORE, not on their command lines, where
    // any user of the machine could read its password (`ps`).
    var environment = ProcessInfo.processInfo.environment
    environment["ROADSIDE_STORE"] = store?.connectionString
    let base = ["--home", home.path]
    func run(_ arguments: [String], input: String? = nil) throws -> (Int32, String) {
      try runRoadside(binary, arguments, environment: environment, input: input)
    }
    let (initStatus, initOutput) = try run(
      ["central", "init", "--numbers-per-range", "100000"] + base)
    guard initStatus == 0 else {
      throw CrashHarnessError(.setup, "central init failed in the harness home")
    }
    // The enrolment code central init showed for the terminal, as its operator would type it.
    guard
      let code = initOutput.split(separator: "\n").first(where: { $0.hasPrefix("  T-BJ-0001  ") })
        .map({ String($0.split(separator: " ")[1]) })
    else { throw CrashHarnessError(.setup, "central init showed no enrolment code for T-BJ-0001") }
    var servers = try (0..<nodes).map { _ in
      try CentralNode.start(binary, home: home, port: 0, environment: environment)
    }
    let port = servers[0].port
    guard
      try run(
        [
          "terminal", "init", "--id", "T-BJ-0001", "--central", "http://127.0.0.1:\(port)",
          "--enrol", code,
        ] + base
      )
      .0 == 0
    else { throw CrashHarnessError(.setup, "terminal init failed in the harness home") }
    let terminal = ["--terminal", "T-BJ-0001"] + base
    // The fixtures' PIN is initial: the first login chooses the officer's own.
    let pin = "343334"
    guard
      try run(["login", "--officer", "010001"] + terminal, input: "010001\n\(pin)\n\(pin)\n").0
        == 0
    else { throw CrashHarnessError(.setup, "the officer could not log in on T-BJ-0001") }

    let drivers = try openCentral().fetchAll(
      "SELECT l.number, v.plate, v.vehicle_class FROM licences l JOIN vehicles v ON v.owner = l.number WHERE l.status = 'A' ORDER BY l.number LIMIT 40"
    ) { ($0.text(0), $0.text(1), $0.text(2)) }
    var random = SeededRandom(seed: seed)
    var landed = 0
    var cycles = 0
    var acknowledged: Set<String> = []
    var violations: [String] = []
    let offences = ["0601", "0111", "0105", "0106", "0107", "0304"]
    func record() -> [String] {
      let (number, plate, vehicle) = drivers[random.int(in: 0...(drivers.count - 1))]
      return [
        "record", "--licence", number, "--plate", plate, "--vehicle", vehicle, "--offence",
        offences[random.int(in: 0...(offences.count - 1))], "--place", "harness",
      ] + terminal
    }
    func acknowledge(_ output: String) {
      for line in output.split(separator: "\n")
      where line.hasPrefix("Decision ") || line.hasPrefix("Processing notice ") {
        if let number = line.split(separator: " ").first(where: {
          $0.count == 19 && $0.hasSuffix(":")
        }) {
          acknowledged.insert(String(number.dropLast()))
        }
      }
    }

    while landed < kills {
      cycles += 1
      let choice = random.int(in: 0...9)
      let killServer = choice == 9
      // A push worth killing: a few stops recorded (and shown to the officer) first.
      if (5...6).contains(choice) || killServer {
        for _ in 0..<random.int(in: 0...4) {
          let (status, output) = try run(record())
          if status == 0 { acknowledge(output) }
        }
      }
      let process = ChildProcess()
      process.executableURL = binary
      process.environment = environment
      let output = Pipe()
      process.standardOutput = output
      process.standardError = FileHandle.nullDevice
      switch choice {
      case 0...4: process.arguments = record()
      case 5...6, 9:
        let node = servers[random.int(in: 0...(servers.count - 1))].port
        process.arguments =
          ["sync", "--attempts", "1", "--push-batch", "5", "--via", "http://127.0.0.1:\(node)"]
          + terminal
      default: process.arguments = ["central", "deduct"] + base
      }
      try process.run()
      try await Task.sleep(for: .milliseconds(random.int(in: 1...90)))
      var killed = false
      let victim = random.int(in: 0...(servers.count - 1))
      if killServer {
        kill(servers[victim].process.processIdentifier, SIGKILL)
        servers[victim].process.waitUntilExit()
        killed = true
      } else if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        killed = true
      }
      let printed = output.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      if process.terminationReason == .exit, process.terminationStatus == 0,
        process.arguments?.first == "record"
      {
        acknowledge(String(decoding: printed, as: UTF8.self))
      }
      if cycles % 25 == 0 {
        _ = try run(["login", "--officer", "010001"] + terminal, input: "\(pin)\n")
      }
      guard killed else { continue }
      landed += 1
      // Restart what is down, finish the work, and check.
      if killServer {
        servers[victim] = try CentralNode.start(
          binary, home: home, port: servers[victim].port, environment: environment)
      }
      try finish(run, terminal: terminal, base: base)
      for violation in try check(home: home, acknowledged: acknowledged) {
        violations.append(
          "after kill \(landed) (\(killServer ? "central serve" : process.arguments![0])): \(violation)"
        )
      }
      if violations.count > 20 { break }
    }
    for server in servers {
      server.process.terminate()
      server.process.waitUntilExit()
    }
    let central = try openCentral()
    let remote =
      try central.fetchOne("SELECT count(*) FROM records WHERE terminal = 'T-BJ-0001'") {
        $0.int(0)
      } ?? 0
    let settled =
      try central.fetchOne("SELECT count(*) FROM deductions WHERE state = 'settled'") {
        $0.int(0)
      } ?? 0
    return CrashHarnessReport(
      cycles: cycles, kills: landed, acknowledged: acknowledged.count, records: remote,
      settled: settled, violations: violations)
  }

  /// Finishes what a kill interrupted: syncs until the outbox is empty and the cache at
  /// central's head, and drives deductions until none is open.
  private func finish(
    _ run: ([String], String?) throws -> (Int32, String), terminal: [String], base: [String]
  ) throws {
    func sync() throws {
      for _ in 0..<10 {
        if try run(["sync"] + terminal, nil).0 == 0 { return }
        Thread.sleep(forTimeInterval: 0.1)
      }
    }
    try sync()
    _ = try run(["central", "deduct"] + base, nil)
    try sync()
  }

  /// The invariants on the three files (see ``Invariants``), and every stop shown to the
  /// officer present at central exactly once.
  private func check(home: URL, acknowledged: Set<String>) throws -> [String] {
    let central = try openCentral()
    let terminal = try Connection(
      path: HomeLayout(home: home).terminalStore("T-BJ-0001").path)
    let bank = try Connection(path: HomeLayout(home: home).bankStore.path)
    // PostgreSQL keeps its own files sound; a SQLite central is checked like the others.
    var found =
      try (central as? Connection).map { try Invariants.integrity($0, "central.sqlite") } ?? []
    found += try Invariants.integrity(terminal, "terminal.sqlite")
    found += try Invariants.integrity(bank, "bank.sqlite")
    found += try Invariants.recordsOnce(terminal: terminal, id: "T-BJ-0001", central: central)
    found += try Invariants.cacheConverged(terminal: terminal, id: "T-BJ-0001", central: central)
    found += try Invariants.chargedOnce(central: central, bank: bank, settled: true)
    var messages = found.map(\.description)
    let atCentral = try central.fetchAll(
      "SELECT number FROM documents WHERE terminal = 'T-BJ-0001'", map: { $0.text(0) })
    let missing = acknowledged.subtracting(atCentral)
    if !missing.isEmpty {
      messages.append(
        "\(missing.count) documents shown to the officer are not at central (\(missing.sorted().prefix(2).joined(separator: ", "))…)"
      )
    }
    if atCentral.count != Set(atCentral).count { messages.append("a document is at central twice") }
    let local = Set(try terminal.fetchAll("SELECT number FROM documents", map: { $0.text(0) }))
    if local != Set(atCentral) { messages.append("the terminal's documents and central's differ") }
    return messages
  }
}
