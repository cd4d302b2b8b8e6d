import ArgumentParser
import Foundation
import RoadsideDomain
import RoadsideScenario
import RoadsideStorage

/// `roadside crash-harness`: real processes of this binary killed with SIGKILL at random
/// moments — terminals recording stops, pulling and pushing; central applying pushes and
/// driving deductions — each restarted, the work finished, and the invariants checked.
struct CrashHarness: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crash-harness",
    abstract: "Kill terminal and central processes at random points and check nothing is lost.",
    discussion: """
      In a temporary home: a central server process (`central serve`), terminal T-BJ-0001 using
      it, and a loop that starts `record`, `sync` and `central deduct` processes and kills one
      of them — or the server during a push — with SIGKILL after a random delay, until --kills
      kills have landed. After every kill it restarts what is down, finishes the work (sync,
      deduct, sync) and checks: PRAGMA integrity_check on every file; every stop shown to the
      officer (a `record` that exited 0) present at central exactly once; the outbox and
      central's records equal; the cache equal to central at its cursor (licences, vehicles,
      decisions); every decision charged at most once, central and the bank agreeing key by key
      and no deduction left open. Exit 0 when there are no violations, 1 otherwise.
      """)

  @Option(help: "Kills to land.") var kills = 1_000
  @Option(help: "Seed of the random delays and choices.") var seed: UInt64 = 1
  @Flag(help: "Keep the home and print its path.") var keep = false

  func run() async throws {
    let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let home = FileManager.default.temporaryDirectory
      .appendingPathComponent("roadside-crash-\(UUID().uuidString)", isDirectory: true)
    defer { if !keep { try? FileManager.default.removeItem(at: home) } }
    let base = ["--home", home.path]
    func run(_ arguments: [String], input: String? = nil) throws -> (Int32, String) {
      let process = Process()
      process.executableURL = binary
      process.arguments = arguments
      let out = Pipe()
      process.standardOutput = out
      process.standardError = FileHandle.nullDevice
      let stdin = Pipe()
      process.standardInput = stdin
      try process.run()
      if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
      try? stdin.fileHandleForWriting.close()
      let data = out.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
    let (initStatus, initOutput) = try run(
      ["central", "init", "--numbers-per-range", "100000"] + base)
    guard initStatus == 0 else { throw CLIError(.software, "central init failed") }
    // The enrolment code central init showed for the terminal, as its operator would type it.
    guard
      let code = initOutput.split(separator: "\n").first(where: { $0.hasPrefix("  T-BJ-0001  ") })
        .map({ String($0.split(separator: " ")[1]) })
    else { throw CLIError(.software, "central init showed no enrolment code for T-BJ-0001") }
    var server = try startServer(binary, home: home, port: 0)
    let port = server.port
    guard
      try run(
        [
          "terminal", "init", "--id", "T-BJ-0001", "--central", "http://127.0.0.1:\(port)",
          "--enrol", code,
        ] + base
      )
      .0 == 0
    else { throw CLIError(.software, "terminal init failed") }
    let terminal = ["--terminal", "T-BJ-0001"] + base
    _ = try run(["login", "--officer", "010001"] + terminal, input: "010001\n")

    let drivers = try Connection(
      path: home.appendingPathComponent("central/central.sqlite").path
    ).fetchAll(
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
      let process = Process()
      process.executableURL = binary
      let output = Pipe()
      process.standardOutput = output
      process.standardError = FileHandle.nullDevice
      switch choice {
      case 0...4: process.arguments = record()
      case 5...6, 9:
        process.arguments = ["sync", "--attempts", "1", "--push-batch", "5"] + terminal
      default: process.arguments = ["central", "deduct"] + base
      }
      try process.run()
      try await Task.sleep(for: .milliseconds(random.int(in: 1...90)))
      var killed = false
      if killServer {
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
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
        _ = try run(["login", "--officer", "010001"] + terminal, input: "010001\n")
      }
      guard killed else { continue }
      landed += 1
      // Restart what is down, finish the work, and check.
      if killServer { server = try startServer(binary, home: home, port: port) }
      try finish(run, terminal: terminal, base: base)
      for violation in try check(home: home, acknowledged: acknowledged) {
        violations.append(
          "after kill \(landed) (\(killServer ? "central serve" : process.arguments![0])): \(violation)"
        )
      }
      if violations.count > 20 { break }
    }
    server.process.terminate()
    server.process.waitUntilExit()
    let remote =
      try Connection(path: home.appendingPathComponent("central/central.sqlite").path)
      .fetchOne("SELECT count(*) FROM records WHERE terminal = 'T-BJ-0001'") { $0.int(0) } ?? 0
    let settled =
      try Connection(path: home.appendingPathComponent("central/central.sqlite").path)
      .fetchOne("SELECT count(*) FROM deductions WHERE state = 'settled'") { $0.int(0) } ?? 0
    print(
      "\(cycles) cycles, \(landed) kills, each followed by a restart, the work finished and the invariants checked; \(acknowledged.count) stops acknowledged to the officer, \(remote) records at central, \(settled) deductions settled; \(violations.count) violations"
    )
    for violation in violations { print("  \(violation)") }
    if keep { print("Home kept at \(home.path)") }
    if !violations.isEmpty { throw ExitCode(1) }
  }

  /// Finishes what a kill interrupted: syncs until the outbox is empty and the cache at
  /// central's head, and drives deductions until none is open.
  func finish(
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
  func check(home: URL, acknowledged: Set<String>) throws -> [String] {
    let central = try Connection(path: home.appendingPathComponent("central/central.sqlite").path)
    let terminal = try Connection(
      path: home.appendingPathComponent("terminals/T-BJ-0001/terminal.sqlite").path)
    let bank = try Connection(path: home.appendingPathComponent("bank/bank.sqlite").path)
    var found = try Invariants.integrity(central, "central.sqlite")
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

  struct Server {
    let process: Process
    let port: Int
  }

  func startServer(_ binary: URL, home: URL, port: Int) throws -> Server {
    for _ in 0..<50 {
      let process = Process()
      process.executableURL = binary
      process.arguments = ["central", "serve", "--home", home.path, "--port", "\(port)"]
      let out = Pipe()
      process.standardOutput = out
      process.standardError = FileHandle.nullDevice
      try process.run()
      var text = ""
      let deadline = Date().addingTimeInterval(10)
      while !text.contains("Serving the central store"), process.isRunning, Date() < deadline {
        text += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
      }
      if let range = text.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
        let bound = Int(text[range].split(separator: ":").last!)
      {
        return Server(process: process, port: bound)
      }
      process.terminate()
      process.waitUntilExit()
      Thread.sleep(forTimeInterval: 0.2)  // the port may still be held by the killed server
    }
    throw CLIError(.unavailable, "the central server did not restart on port \(port)")
  }
}
