import Foundation
import RoadsideCrashHarness
import RoadsidePostgres
import RoadsideSpawn
import RoadsideStorage
import Testing

@testable import RoadsideCentral

/// A `central serve` node on PostgreSQL killed with SIGKILL in the middle of a push: its
/// transaction has inserted the batch's records and waits, before its commit, for the
/// change-log lock, which the test holds. The kill is made to land there, not hoped for.
@Suite(.enabled(if: postgresServer != nil, "needs ROADSIDE_TEST_POSTGRES_URL"))
struct NodeKillTests {
  /// Runs `roadside` to its end with `environment`; its status and standard output.
  func roadside(_ arguments: [String], environment: [String: String], input: String? = nil)
    throws -> (status: Int32, output: String)
  {
    try runRoadside(roadsideBinary, arguments, environment: environment, input: input)
  }

  /// Starts `central serve` on a port of its choosing; the process and its port.
  func startNode(home: URL, environment: [String: String]) throws -> (ChildProcess, Int) {
    let node = try CentralNode.start(roadsideBinary, home: home, port: 0, environment: environment)
    return (node.process, node.port)
  }

  /// Polls `condition` every 50 ms for up to 30 s; whether it came true.
  func eventually(_ condition: () throws -> Bool) throws -> Bool {
    for _ in 0..<600 {
      if try condition() { return true }
      Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
  }

  @Test func aNodeKilledMidPushLosesNothingAcknowledgedAndLeavesNothingHalfApplied() throws {
    let home = FileManager.default.temporaryDirectory
      .appendingPathComponent("roadside-node-kill-\(UUID().uuidString)", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: home) }
    let server = try #require(postgresServer)
    let name = "roadside_nodekill_\(UUID().uuidString.lowercased().prefix(8))"
    let store = try server.creatingDatabase(name)
    defer { try? server.droppingDatabase(name) }
    var environment = ProcessInfo.processInfo.environment
    environment["ROADSIDE_STORE"] = store.connectionString
    let base = ["--home", home.path]
    let terminal = ["--terminal", "T-BJ-0001"] + base

    let initialised = try roadside(["central", "init"] + base, environment: environment)
    #expect(initialised.status == 0)
    let code = try #require(
      initialised.output.split(separator: "\n").first { $0.hasPrefix("  T-BJ-0001  ") }
        .map { String($0.split(separator: " ")[1]) })
    var (victim, victimPort) = try startNode(home: home, environment: environment)
    let (survivor, survivorPort) = try startNode(home: home, environment: environment)
    defer {
      for node in [victim, survivor] where node.isRunning {
        node.terminate()
        node.waitUntilExit()
      }
    }
    let enrolled = try roadside(
      [
        "terminal", "init", "--id", "T-BJ-0001", "--central", "http://127.0.0.1:\(victimPort)",
        "--enrol", code,
      ] + base, environment: environment)
    #expect(enrolled.status == 0)
    let login = try roadside(
      ["login", "--officer", "010001"] + terminal, environment: environment,
      input: "010001\n343334\n343334\n")
    #expect(login.status == 0)

    let observer = try PostgresDatabase(store)
    let drivers = try observer.fetchAll(
      "SELECT l.number, v.plate, v.vehicle_class FROM licences l JOIN vehicles v ON v.owner = l.number WHERE l.status = 'A' ORDER BY l.number LIMIT 2"
    ) { ($0.text(0), $0.text(1), $0.text(2)) }
    try #require(drivers.count == 2)
    func record(_ driver: (String, String, String)) throws {
      let recorded = try roadside(
        [
          "record", "--licence", driver.0, "--plate", driver.1, "--vehicle", driver.2,
          "--offence", "0601", "--place", "node-kill",
        ] + terminal, environment: environment)
      #expect(recorded.status == 0, "\(recorded.output)")
    }
    func stored() throws -> Set<String> {
      Set(try observer.fetchAll("SELECT record_id FROM records") { $0.text(0) })
    }

    func decisions() throws -> Int? {
      try observer.fetchOne("SELECT count(*) FROM decisions") { $0.int(0) }
    }
    let fixtureDecisions = try #require(try decisions())

    // What central acknowledged before the kill.
    try record(drivers[0])
    let first = try roadside(
      ["sync", "--attempts", "1", "--via", "http://127.0.0.1:\(victimPort)"] + terminal,
      environment: environment)
    #expect(first.status == 0, "\(first.output)")
    let acknowledged = try stored()
    #expect(!acknowledged.isEmpty)

    // The next push stops inside its transaction, its records inserted, at the change-log
    // lock the test holds (a session lock, which a transaction's lock on the key waits for).
    try record(drivers[1])
    try observer.execute("SELECT pg_advisory_lock(?)", PostgresLocks.changeLog)
    var locked = true
    // Whatever fails below, the lock goes before the nodes are stopped: a node shutting down
    // gracefully would wait for the push that waits for it.
    defer { if locked { _ = try? observer.execute("SELECT pg_advisory_unlock_all()") } }
    let push = ChildProcess()
    push.executableURL = roadsideBinary
    push.arguments =
      ["sync", "--attempts", "1", "--via", "http://127.0.0.1:\(victimPort)"] + terminal
    push.environment = environment
    push.standardOutput = FileHandle.nullDevice
    push.standardError = FileHandle.nullDevice
    try push.run()
    let midPush = try eventually {
      try observer.fetchOne(
        """
        SELECT count(*) FROM pg_stat_activity a
        WHERE a.datname = current_database() AND a.wait_event_type = 'Lock'
          AND a.wait_event = 'advisory'
          AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid
            AND l.relation = 'records'::regclass AND l.mode = 'RowExclusiveLock')
        """
      ) { $0.int(0) } == 1
    }
    #expect(midPush, "the push never reached the change-log lock with its records inserted")
    kill(victim.processIdentifier, SIGKILL)
    victim.waitUntilExit()
    _ = try observer.execute("SELECT pg_advisory_unlock(?)", PostgresLocks.changeLog)
    locked = false
    push.waitUntilExit()
    #expect(push.terminationStatus != 0, "a push through a killed node cannot have landed")

    // The killed node's transaction ends with nothing of it kept; what was acknowledged is
    // all there.
    let ended = try eventually {
      try observer.fetchOne(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
      ) { $0.int(0) } == 0
    }
    #expect(ended)
    #expect(try stored() == acknowledged, "nothing lost and nothing half-applied")

    // The same records pushed again through the other node are applied once, and a node
    // restarted on the store serves again.
    let retry = try roadside(
      ["sync", "--attempts", "1", "--via", "http://127.0.0.1:\(survivorPort)"] + terminal,
      environment: environment)
    #expect(retry.status == 0, "\(retry.output)")
    let after = try stored()
    #expect(after.isSuperset(of: acknowledged) && after.count > acknowledged.count)
    // Each stop's penalty decision, once.
    #expect(
      try observer.fetchOne("SELECT count(*) FROM records WHERE kind = 'decision'") {
        $0.int(0)
      } == 2)
    #expect(try decisions() == fixtureDecisions + 2)
    (victim, victimPort) = try startNode(home: home, environment: environment)
    let again = try roadside(
      ["sync", "--attempts", "1", "--via", "http://127.0.0.1:\(victimPort)"] + terminal,
      environment: environment)
    #expect(again.status == 0)
    #expect(try stored() == after)
  }
}
