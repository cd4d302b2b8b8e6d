import ArgumentParser
import Foundation
import RoadsideDomain
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
      kills have landed. Then it restarts what is down, lets everything finish, and checks:
      PRAGMA integrity_check on every file; every stop shown to the officer (a `record` that
      exited 0) present at central exactly once; the outbox and central's records equal; the
      cache equal to central at its cursor; every decision charged at most once and central and
      the bank reconciled. Exit 0 when there are no violations.
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
    guard try run(["central", "init", "--numbers-per-range", "100000"] + base).0 == 0 else {
      throw CLIError(.software, "central init failed")
    }
    var server = try startServer(binary, home: home, port: 0)
    let port = server.port
    guard
      try run(
        ["terminal", "init", "--id", "T-BJ-0001", "--central", "http://127.0.0.1:\(port)"] + base
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
    let offences = ["0601", "0111", "0105", "0106", "0107", "0304"]

    while landed < kills {
      cycles += 1
      let process = Process()
      process.executableURL = binary
      process.standardOutput = Pipe()
      process.standardError = FileHandle.nullDevice
      let choice = random.int(in: 0...9)
      let killServer = choice == 9
      switch choice {
      case 0...4:
        let (number, plate, vehicle) = drivers[random.int(in: 0...(drivers.count - 1))]
        process.arguments =
          [
            "record", "--licence", number, "--plate", plate, "--vehicle", vehicle, "--offence",
            offences[random.int(in: 0...(offences.count - 1))], "--place", "harness",
          ] + terminal
      case 5...6, 9:
        process.arguments = ["sync", "--attempts", "1", "--push-batch", "5"] + terminal
      default:
        process.arguments = ["central", "deduct"] + base
      }
      try process.run()
      try await Task.sleep(for: .milliseconds(random.int(in: 1...90)))
      if killServer {
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        landed += 1
        process.waitUntilExit()
        server = try startServer(binary, home: home, port: port)
        continue
      }
      if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        landed += 1
      }
      process.waitUntilExit()
      if process.terminationReason == .exit, process.terminationStatus == 0,
        process.arguments?.first == "record",
        let out = (process.standardOutput as? Pipe)?.fileHandleForReading.readDataToEndOfFile()
      {
        for line in String(decoding: out, as: UTF8.self).split(separator: "\n")
        where line.hasPrefix("Decision ") || line.hasPrefix("Processing notice ") {
          if let number = line.split(separator: " ").first(where: {
            $0.count == 19 && $0.hasSuffix(":")
          }) {
            acknowledged.insert(String(number.dropLast()))
          }
        }
      }
      if cycles % 25 == 0 {
        _ = try run(["login", "--officer", "010001"] + terminal, input: "010001\n")
      }
    }

    // Finish the work: sync until the outbox is empty, then settle the deductions.
    for _ in 0..<5 { _ = try run(["sync"] + terminal) }
    for _ in 0..<3 { _ = try run(["central", "deduct"] + base) }
    _ = try run(["sync"] + terminal)
    server.process.terminate()
    server.process.waitUntilExit()

    var violations: [String] = []
    let centralDB = try Connection(path: home.appendingPathComponent("central/central.sqlite").path)
    let terminalDB = try Connection(
      path: home.appendingPathComponent("terminals/T-BJ-0001/terminal.sqlite").path)
    let bankDB = try Connection(path: home.appendingPathComponent("bank/bank.sqlite").path)
    for (name, db) in [("central", centralDB), ("terminal", terminalDB), ("bank", bankDB)]
    where try db.integrityCheck() != ["ok"] {
      violations.append("integrity_check failed on the \(name) file")
    }
    let atCentral = Set(
      try centralDB.fetchAll("SELECT number FROM documents", map: { $0.text(0) }))
    let missing = acknowledged.subtracting(atCentral)
    if !missing.isEmpty {
      violations.append("\(missing.count) documents shown to the officer are not at central")
    }
    let local = try terminalDB.fetchAll("SELECT record_id FROM outbox", map: { $0.text(0) })
    let remote = try centralDB.fetchAll(
      "SELECT record_id FROM records WHERE terminal = 'T-BJ-0001'", map: { $0.text(0) })
    if Set(local) != Set(remote) || local.count != remote.count {
      violations.append("outbox (\(local.count)) and central's records (\(remote.count)) differ")
    }
    let localDocuments = Set(
      try terminalDB.fetchAll("SELECT number FROM documents", map: { $0.text(0) }))
    if localDocuments != atCentral {
      violations.append("the terminal's documents and central's differ")
    }
    let cursor = try terminalDB.fetchOne("SELECT cursor FROM sync_state") { $0.int64(0) }
    let latest = try centralDB.fetchOne("SELECT max(seq) FROM change_log") { $0.int64(0) }
    if cursor != latest {
      violations.append("cache cursor \(cursor ?? -1), central at \(latest ?? -1)")
    }
    let open =
      try centralDB.fetchOne(
        "SELECT count(*) FROM deductions WHERE state NOT IN ('settled', 'failed', 'cancelled', 'reversed')",
        map: { $0.int(0) }) ?? 0
    if open > 0 { violations.append("\(open) deductions still open") }
    let settled = try centralDB.fetchAll(
      "SELECT decision, amount_fen FROM deductions WHERE state = 'settled'",
      map: { ($0.text(0), $0.int64(1)) })
    for (key, amount) in settled {
      let bank = try bankDB.fetchAll(
        "SELECT amount_fen FROM deductions WHERE key = ? AND outcome = 'settled'", key,
        map: { $0.int64(0) })
      if bank != [amount] {
        violations.append("decision \(key): central settled \(amount) fen, the bank \(bank)")
      }
    }
    let bankSettled =
      try bankDB.fetchOne(
        "SELECT count(*) FROM deductions WHERE outcome = 'settled'", map: { $0.int(0) }) ?? 0
    if bankSettled != settled.count {
      violations.append("the bank settled \(bankSettled) deductions, central \(settled.count)")
    }
    print(
      "\(cycles) cycles, \(landed) kills, \(acknowledged.count) stops acknowledged to the officer, \(remote.count) records at central, \(settled.count) deductions settled; \(violations.count) violations"
    )
    for violation in violations { print("  \(violation)") }
    if keep { print("Home kept at \(home.path)") }
    if !violations.isEmpty { throw ExitCode(1) }
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
