import Foundation
import RoadsideCentral
import RoadsideDomain
import RoadsideProtocol
import RoadsideSpawn
import RoadsideStorage
import RoadsideTerminal
import Testing

/// A central server process (`roadside central serve --port 0`) for the duration of a test.
final class ServerProcess {
  let process = ChildProcess()
  let url: String

  init(home: URL, arguments extra: [String] = []) throws {
    process.executableURL = roadsideBinary
    process.arguments = ["central", "serve", "--home", home.path, "--port", "0"] + extra
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    var text = ""
    let deadline = Date().addingTimeInterval(20)
    while !text.contains("Serving the central store"), Date() < deadline {
      text += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
    }
    guard
      let range = text.range(of: #"https?://127\.0\.0\.1:[0-9]+"#, options: .regularExpression)
    else {
      process.terminate()
      throw CLIFailure("the central server did not start: \(text)")
    }
    url = String(text[range])
  }

  func stop() {
    process.terminate()  // SIGTERM: graceful shutdown
    process.waitUntilExit()
  }
}

struct CLIFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

@Suite(.serialized) struct CrashTests {
  /// Kills `roadside sync` with SIGKILL at random points while it pushes and pulls, at least
  /// 100 times, with central changing and the officer recording in between; then lets it
  /// finish and checks that the cache equals central at the cursor and that every record
  /// the terminal committed is at central exactly once.
  @Test func syncSurvivesSIGKILLDuringPullAndPush() async throws {
    let home = newHome()
    let fixtures = home.appendingPathComponent("fixtures")
    #expect(
      try roadside([
        "fixtures", "generate", "--licences", "1500", "--seed", "5", "--out", fixtures.path,
        "--now", now,
      ]).status == 0)
    #expect(
      try roadside([
        "central", "init", "--fixtures", fixtures.path, "--home", home.path, "--now", now,
      ]).status == 0)
    let server = try ServerProcess(home: home)
    defer { server.stop() }
    let id = "T-BJ-0001"
    let initRun = try roadside([
      "terminal", "init", "--id", id, "--central", server.url, "--no-sync", "--home", home.path,
      "--enrol", try freshEnrolmentCode(home: home, terminal: id),
    ])
    #expect(initRun.status == 0, "\(initRun.stderr)")

    let terminalPath = home.appendingPathComponent("terminals/\(id)/terminal.sqlite").path
    let centralPath = home.appendingPathComponent("central/central.sqlite").path
    let clock = SystemClockForTests()
    var random = SeededRandom(seed: 2026)
    let licences = try Connection(path: centralPath).fetchAll(
      "SELECT number FROM licences ORDER BY number LIMIT 50"
    ) {
      try CitizenID($0.text(0))
    }

    /// Records made on the terminal while no sync runs: lookups (check + audit records).
    func recordSome(_ count: Int) throws {
      let terminal = try Terminal.open(
        path: terminalPath, terminal: id, clock: clock,
        identifiers: SeededIdentifiers(seed: random.next()))
      if (try? terminal.lookup(licences[0])) == nil {
        // Officers arrive with the first pull; until then nothing can be recorded.
        guard (try? terminal.login(officer: "010001", pin: "010001")) != nil else { return }
      }
      for _ in 0..<count { _ = try terminal.lookup(random.element(of: licences)) }
    }

    var kills = 0
    var iterations = 0
    // The kill comes at a random moment up to `ceiling` ms after the start. A sync's length
    // depends on the machine (a fast one finished about one in five before a fixed 5–160 ms
    // kill), so the ceiling follows it: shorter after a sync that ended first, longer after
    // a kill that landed, and the kills stay spread over the whole sync, pull and push.
    var ceiling = 160
    while kills < 100, iterations < 400 {
      iterations += 1
      try recordSome(random.int(in: 0...6))
      if iterations % 3 == 0 {
        let central = try CentralService.open(path: centralPath, clock: clock)
        let number = random.element(of: licences)
        if (try? central.suspend(number, until: nil, reason: "crash test")) == nil {
          _ = try? central.reinstate(number, reason: "crash test")
        }
      }
      let process = ChildProcess()
      process.executableURL = roadsideBinary
      process.arguments = [
        "sync", "--terminal", id, "--home", home.path, "--batch", "40", "--push-batch", "7",
        "--attempts", "1",
      ]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      // A blocking sleep, not Task.sleep: with CPU-bound tests filling the cooperative pool
      // (simulations, mutants), a task's wake-up can come seconds late, every sync ends
      // before its kill, and the kills stop landing (66 of 400 once on CI).
      usleep(useconds_t(random.int(in: 2...ceiling) * 1_000))
      if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        kills += 1
        ceiling = min(160, ceiling + ceiling / 10 + 1)
      } else {
        ceiling = max(10, ceiling * 3 / 4)
      }
      process.waitUntilExit()
    }
    #expect(kills >= 100, "only \(kills) kills landed in \(iterations) runs")

    // Let it finish.
    let final = try roadside(["sync", "--terminal", id, "--home", home.path])
    #expect(final.status == 0, "\(final.stderr)")

    let terminalDB = try Connection(path: terminalPath)
    let centralDB = try Connection(path: centralPath)
    #expect(try terminalDB.integrityCheck() == ["ok"])
    #expect(try centralDB.integrityCheck() == ["ok"])

    // Every committed record is at central exactly once (the primary key guarantees "once").
    let local = try terminalDB.fetchAll("SELECT record_id FROM outbox ORDER BY seq") { $0.text(0) }
    let pending = try terminalDB.fetchOne("SELECT count(*) FROM outbox WHERE state = 'pending'") {
      $0.int(0)
    }
    let remote = try centralDB.fetchAll("SELECT record_id FROM records WHERE terminal = ?", id) {
      $0.text(0)
    }
    #expect(pending == 0)
    #expect(!local.isEmpty)
    #expect(Set(local) == Set(remote) && local.count == remote.count)

    // The cache equals central at the cursor.
    let cursor = try terminalDB.fetchOne("SELECT cursor FROM sync_state") { $0.int64(0) }
    let latest = try centralDB.fetchOne("SELECT max(seq) FROM change_log") { $0.int64(0) }
    #expect(cursor == latest)
    let centralLicences = try centralDB.fetchAll(
      "SELECT number, status, epoch FROM licences ORDER BY number"
    ) {
      "\($0.text(0)) \($0.text(1)) \($0.int(2))"
    }
    let cachedLicences = try terminalDB.fetchAll(
      "SELECT number, status, epoch FROM licences ORDER BY number"
    ) {
      "\($0.text(0)) \($0.text(1)) \($0.int(2))"
    }
    #expect(cachedLicences == centralLicences)
    // Need to know: officers and terminal state of the terminal's own unit and id only.
    let scoped = [
      "officers":
        "SELECT count(*) FROM officers WHERE unit = (SELECT unit FROM terminals WHERE id = '\(id)')",
      "terminals": "SELECT count(*) FROM terminals WHERE id = '\(id)'",
    ]
    for table in ["vehicles", "decisions", "officers", "offences", "terminals"] {
      let c = try centralDB.fetchOne(scoped[table] ?? "SELECT count(*) FROM \(table)") {
        $0.int(0)
      }
      let t = try terminalDB.fetchOne("SELECT count(*) FROM \(table)") { $0.int(0) }
      #expect(c == t, "\(table)")
    }
    // The audit chain pushed to central is whole.
    let verify = try roadside(["central", "audit", "--terminal", id, "--home", home.path])
    #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
  }
}

@Suite(.serialized) struct StopCrashTests {
  /// `roadside record` killed at random moments: every stop is on disk whole — its three
  /// documents, their outbox entries, the stop row, its audit entry, its numbers — or not at all.
  @Test func aStopIsWhollyRecordedOrNotAtAllUnderSIGKILL() async throws {
    let home = newHome()
    let base = ["--home", home.path]
    #expect(
      try roadside(["central", "init", "--numbers-per-range", "5000", "--now", now] + base).status
        == 0)
    #expect(
      try roadside(
        [
          "terminal", "init", "--id", "T-BJ-0001", "--central", "local", "--enrol",
          try freshEnrolmentCode(home: home, terminal: "T-BJ-0001"),
        ] + base
      ).status == 0)
    let args = ["--terminal", "T-BJ-0001"] + base
    #expect(try roadside(["login", "--officer", "010001"] + args, input: firstLogin).status == 0)
    var random = SeededRandom(seed: 11)
    var kills = 0
    var iterations = 0
    while kills < 100, iterations < 500 {
      iterations += 1
      let process = ChildProcess()
      process.executableURL = roadsideBinary
      process.arguments =
        [
          "record", "--licence", normalLicence, "--plate", "京A12345", "--vehicle", "C2",
          "--offence", "0105,0106,0107", "--fine", "100,100,100", "--place", "长安街",
        ] + args
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      try await Task.sleep(for: .milliseconds(random.int(in: 2...60)))
      if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        kills += 1
      }
      process.waitUntilExit()
    }
    #expect(kills >= 100, "only \(kills) kills landed in \(iterations) runs")

    let db = try Connection(
      path: home.appendingPathComponent("terminals/T-BJ-0001/terminal.sqlite").path)
    #expect(try db.integrityCheck() == ["ok"])
    let stops = try db.fetchOne("SELECT count(*) FROM stops") { $0.int(0) } ?? -1
    #expect(stops > 0, "no stop completed in \(iterations) runs")
    // A whole stop: its three offences' documents, and a certificate exactly when the stop
    // withheld the paper licence (the cycle reached 12 at it).
    let documents = try db.fetchOne("SELECT count(*) FROM documents") { $0.int(0) } ?? -1
    let certificates =
      try db.fetchOne("SELECT count(*) FROM documents WHERE kind = 'certificate'") { $0.int(0) }
      ?? -1
    let withheld =
      try db.fetchOne("SELECT count(*) FROM stops WHERE withholding IS NOT NULL") { $0.int(0) }
      ?? -1
    #expect(documents - certificates == 3 * stops)
    #expect(certificates == withheld)
    let partial = try db.fetchAll(
      "SELECT stop FROM documents WHERE kind <> 'certificate' GROUP BY stop HAVING count(*) <> 3"
    ) { $0.text(0) }
    #expect(partial.isEmpty)
    let orphans = try db.fetchOne(
      """
      SELECT count(*) FROM documents d LEFT JOIN outbox o ON o.record_id = d.record_id
      WHERE o.record_id IS NULL OR o.kind <> d.kind
      """
    ) { $0.int(0) }
    #expect(orphans == 0)
    let outboxDocuments = try db.fetchOne(
      "SELECT count(*) FROM outbox WHERE kind IN ('decision', 'notice', 'certificate')"
    ) { $0.int(0) }
    #expect(outboxDocuments == documents)
    let audited = try db.fetchOne("SELECT count(*) FROM audit_log WHERE action = 'stop'") {
      $0.int(0)
    }
    #expect(audited == stops)
    let used = try db.fetchOne("SELECT sum(next - first) FROM number_ranges") { $0.int(0) }
    #expect(used == documents)
    // And the whole outbox reaches central once.
    let sync = try roadside(["sync"] + args)
    #expect(sync.status == 0, "\(sync.stderr)")
    #expect(sync.stdout.contains(" 0 rejected"), "\(sync.stdout)")
  }
}

/// The wall clock, for the crash test's in-process steps between CLI runs.
struct SystemClockForTests: RoadsideDomain.Clock {
  func now() -> Timestamp { Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }
}

@Suite(.serialized) struct ServeTests {
  @Test(arguments: [SIGTERM, SIGINT])
  func serveShutsDownGracefullyOnSignals(_ signal: Int32) throws {
    let home = try initialisedHome()
    let server = try ServerProcess(home: home)
    // The server answers, then stops cleanly when signalled.
    let registration = try roadside([
      "terminal", "init", "--id", "T-BJ-0002", "--central", server.url, "--home", home.path,
      "--enrol", try freshEnrolmentCode(home: home, terminal: "T-BJ-0002"),
    ])
    #expect(registration.status == 0, "\(registration.stderr)")
    kill(server.process.processIdentifier, signal)
    let deadline = Date().addingTimeInterval(10)
    while server.process.isRunning, Date() < deadline { usleep(20_000) }
    #expect(!server.process.isRunning, "the server did not stop within 10 s")
    server.process.waitUntilExit()
    #expect(server.process.terminationReason == .exit)
    #expect(server.process.terminationStatus == 0)
  }
}
