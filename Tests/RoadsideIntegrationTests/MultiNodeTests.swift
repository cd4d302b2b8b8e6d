import Foundation
import RoadsideCentralServer
import RoadsideDomain
import RoadsideFixtures
import RoadsidePostgres
import RoadsideProtocol
import RoadsideTerminal
import Synchronization
import Testing

@testable import RoadsideCentral

/// Normal licences with a vehicle and no decided points, each with one of its plates: the
/// drivers a round of a race test is about (one per round, so rounds do not interact).
let cleanDrivers: [(licence: LicenceNumber, plate: Plate)] = {
  let scored = Set(defaultSet.decisions.map(\.licence))
  let normal = Set(defaultSet.licences.filter { $0.status == .normal }.map(\.number))
  var seen: Set<LicenceNumber> = []
  return defaultSet.vehicles.compactMap { vehicle in
    guard normal.contains(vehicle.owner), !scored.contains(vehicle.owner),
      seen.insert(vehicle.owner).inserted
    else { return nil }
    return (vehicle.owner, vehicle.plate)
  }
}()

/// Central on PostgreSQL with several nodes: each node is a ``CentralService`` with its own
/// connection, and each race is started on threads released at the same instant, many
/// rounds over, so that two nodes really are inside their transactions together.
@Suite(.enabled(if: TestPostgres.available, "needs ROADSIDE_TEST_POSTGRES_URL"), .serialized)
struct MultiNodeTests {
  static let rounds = 12

  /// A world on a new database, two terminals logged in, and the two nodes.
  func world(_ label: String) async throws -> (
    World, Terminal, Terminal, CapturingTransport, CapturingTransport, Node, Node,
    InProcessTransport
  ) {
    let world = try World(store: .postgresql(try TestPostgres.freshDatabase(label)))
    let local = InProcessTransport(endpoint: world.endpoint)
    let one = try await world.terminal("T-BJ-0001", transport: local, seed: 1)
    let two = try await world.terminal("T-BJ-0002", transport: local, officer: "010002", seed: 2)
    // The logins' audit records go now, so that each captured batch is the round's alone.
    _ = try await one.push(transport: local)
    _ = try await two.push(transport: local)
    return (
      world, one, two, CapturingTransport(local), CapturingTransport(local),
      Node(try world.central()), Node(try world.central()), local
    )
  }

  /// The acknowledgements of the violation records in `batch` (a batch also carries the
  /// audit entries of the recording).
  func violations(_ response: PushResponse, of batch: PushBatch) -> [RecordAcknowledgement] {
    let ids = Set(batch.records.filter { $0.recordKind == .violation }.map { $0.recordID })
    return response.acknowledgements.filter { ids.contains($0.recordID) }
  }

  /// After a race, each terminal hears its acknowledgements (duplicates now), so that the
  /// next round's batches hold that round's records alone.
  func settle(_ terminals: Terminal..., through local: InProcessTransport) async throws {
    for terminal in terminals { _ = try await terminal.push(transport: local) }
  }

  @Test func theSameEventReachingTwoNodesAtOnceIsHeldOnce() async throws {
    let (world, one, two, toA, toB, nodeA, nodeB, local) = try await world("duplicate")
    for round in 0..<Self.rounds {
      let (licence, plate) = cleanDrivers[round]
      try one.recordViolation(licence: licence, plate: plate, offenceCode: "0601", place: "东单")
      try two.recordViolation(licence: licence, plate: plate, offenceCode: "0601", place: "东单")
      _ = try? await one.push(transport: toA, attempts: 1)
      _ = try? await two.push(transport: toB, attempts: 1)
      let (a, b) = (toA.batches.last!, toB.batches.last!)
      let results = simultaneously({ try nodeA.service.push(a) }, { try nodeB.service.push(b) })
      let acknowledgements =
        violations(try results[0].get(), of: a) + violations(try results[1].get(), of: b)
      let outcomes = acknowledgements.map { $0.outcome.rawValue }.sorted()
      #expect(outcomes == ["accepted", "conflict"], "round \(round)")
      let conflicts = try nodeA.service.conflicts().filter { $0.licence == licence.value }
      #expect(conflicts.map(\.kind) == [.duplicateEvent], "round \(round)")
      #expect(conflicts.first?.records.count == 2)
      let pending = try nodeB.service.store.read {
        try $0.violations(licence: licence.value, fromSeconds: 0, toSeconds: Int64.max / 2)
      }
      #expect(pending.filter { $0.state == .pending }.count == 1, "round \(round)")
      try await settle(one, two, through: local)
      world.clock.advance(seconds: 60)
    }
  }

  @Test func aBatchReplayedToTwoNodesAtOnceIsAppliedOnce() async throws {
    let (_, one, _, toA, _, nodeA, nodeB, local) = try await world("replay")
    for round in 0..<Self.rounds {
      for (licence, plate) in cleanDrivers[(round * 3)..<(round * 3 + 3)] {
        try one.recordViolation(licence: licence, plate: plate, offenceCode: "0111", place: "西单")
      }
      _ = try? await one.push(transport: toA, attempts: 1)
      let batch = toA.batches.last!
      let results = simultaneously(
        { try nodeA.service.push(batch) }, { try nodeB.service.push(batch) })
      let responses: [PushResponse] = try results.map { try $0.get() }
      let acknowledgements: [RecordAcknowledgement] = responses.flatMap { $0.acknowledgements }
      for record in batch.records {
        let outcomes = acknowledgements.filter { $0.recordID == record.recordID }.map {
          $0.outcome
        }
        #expect(outcomes.filter { $0 == RecordOutcome.duplicate }.count == 1, "round \(round)")
        #expect(try nodeA.service.store.read { try $0.record(record.recordID) } != nil)
      }
      let applied = try nodeB.service.store.read { tx in
        try batch.records.compactMap { try tx.record($0.recordID) }
      }
      #expect(applied.count == batch.records.count)
      let ids = Set(batch.records.filter { $0.recordKind == .violation }.map { $0.recordID })
      let logged = try nodeA.service.changes(after: 0, limit: 100_000).filter {
        $0.entity == ChangeEntity.violation && ids.contains($0.key)
      }
      #expect(logged.count == 3, "each violation enters the change log once")
      try await settle(one, through: local)
    }
  }

  /// An officer at one node suspends a licence while another, at another node, withholds
  /// it: each locks the licence row before it reads it, so the second builds on the first
  /// and the licence ends both suspended and withheld, never with one change lost.
  @Test func twoAdministrativeChangesAtTwoNodesAtOnceAreBothKept() async throws {
    let world = try World(store: .postgresql(try TestPostgres.freshDatabase("admin")))
    let (nodeA, nodeB) = (Node(try world.central()), Node(try world.central()))
    for round in 0..<Self.rounds {
      let licence = cleanDrivers[round].licence
      let results = simultaneously(
        { try nodeA.service.suspend(licence, until: nil, reason: "round \(round)") },
        { try nodeB.service.withhold(licence, reason: "round \(round)") })
      _ = try results.map { try $0.get() }
      let final = try nodeA.service.dossier(licence).licence
      #expect(final.status.contains(.suspended), "round \(round)")
      #expect(final.status.contains(.withheld), "round \(round)")
      let logged = try nodeB.service.changes(after: 0, limit: 100_000).last {
        $0.entity == ChangeEntity.licence && $0.key == licence.value
      }
      #expect(logged?.payload == (try CanonicalJSON.string(final)), "the log's last word")
    }
  }

  @Test func twoSixPointRecordsAtTwoNodesAtOnceCrossTwelveOnce() async throws {
    let (world, one, two, toA, toB, nodeA, nodeB, local) = try await world("points")
    for round in 0..<Self.rounds {
      let (licence, plate) = cleanDrivers[round]
      // Two different six-point events: not duplicates of each other, 12 together.
      try one.recordViolation(licence: licence, plate: plate, offenceCode: "0601", place: "东单")
      try two.recordViolation(licence: licence, plate: plate, offenceCode: "0605", place: "西单")
      _ = try? await one.push(transport: toA, attempts: 1)
      _ = try? await two.push(transport: toB, attempts: 1)
      let (a, b) = (toA.batches.last!, toB.batches.last!)
      let results = simultaneously({ try nodeA.service.push(a) }, { try nodeB.service.push(b) })
      _ = try results.map { try $0.get() }
      let conflicts = try nodeA.service.conflicts().filter { $0.licence == licence.value }
      #expect(conflicts.map(\.kind) == [.pointsCross12], "round \(round)")
      try await settle(one, two, through: local)
      world.clock.advance(seconds: 60)
    }
  }

  /// Two handsets of one unit each take a wrong PIN for the same officer, and their pushes
  /// reach two nodes at the same instant. Each node locks the officer's row before it
  /// counts (``CentralWriting/lockInOrder(records:licences:documents:officers:)``), so
  /// central counts both: the fleet-wide count that locks an officer out at 5 never loses
  /// one to a node that read the count before the other wrote it. Central unlocks the
  /// officer after each round, so every round starts from nought.
  @Test func wrongPINsAtTwoNodesAtOnceAreBothCounted() async throws {
    let world = try World(store: .postgresql(try TestPostgres.freshDatabase("pins")))
    let local = InProcessTransport(endpoint: world.endpoint)
    let unit = try #require(defaultSet.terminals.first { $0.id == "T-BJ-0001" }).unit
    let target = try #require(
      defaultSet.officers.first { $0.unit == unit && $0.id != "010001" }?.id)
    _ = try world.central().addTerminal(id: "T-BJ-0101", unit: unit, reason: "a second handset")
    let one = try await world.terminal("T-BJ-0001", transport: local, seed: 1)
    let two = try await world.terminal("T-BJ-0101", transport: local, seed: 3)
    for terminal in [one, two] { _ = try await terminal.push(transport: local) }
    let (toA, toB) = (CapturingTransport(local), CapturingTransport(local))
    let (nodeA, nodeB) = (Node(try world.central()), Node(try world.central()))
    for round in 0..<Self.rounds {
      for terminal in [one, two] {
        #expect(throws: TerminalError.self) { try terminal.login(officer: target, pin: "000000") }
      }
      _ = try? await one.push(transport: toA, attempts: 1)
      _ = try? await two.push(transport: toB, attempts: 1)
      let (a, b) = (toA.batches.last!, toB.batches.last!)
      let results = simultaneously({ try nodeA.service.push(a) }, { try nodeB.service.push(b) })
      for result in results {
        #expect(try result.get().acknowledgements.allSatisfy { $0.outcome == .accepted })
      }
      let counted = try nodeA.service.store.read { try $0.officer(target)?.pinFailures }
      #expect(counted == 2, "round \(round): both wrong PINs counted")
      _ = try nodeB.service.unlockOfficer(target, reason: "round \(round)")
      for terminal in [one, two] {
        _ = try await terminal.push(transport: local)
        _ = try await terminal.pull(transport: local)
      }
    }
  }

  /// Terminals push to two nodes while a third pulls by cursor the whole time: the
  /// cursor must never pass a sequence number whose transaction commits after a later one.
  /// The two terminals' drivers differ, so no lock of a licence or a record orders the two
  /// nodes' transactions: only the change log's own does.
  @Test func aPullingCursorNeverSkipsAChange() async throws {
    let (world, one, two, _, _, nodeA, nodeB, local) = try await world("cursor")
    let puller = Node(try world.central())
    let (toA, toB) = (
      CapturingTransport(local, acknowledging: true), CapturingTransport(local, acknowledging: true)
    )
    for index in 0..<40 {
      let (first, second) = (cleanDrivers[index], cleanDrivers[40 + index])
      try one.recordViolation(
        licence: first.licence, plate: first.plate, offenceCode: "0304", place: "东单")
      try two.recordViolation(
        licence: second.licence, plate: second.plate, offenceCode: "0105", place: "西单")
    }
    // Eight records a batch: four violations and their audit entries.
    _ = try await one.push(transport: toA, batchSize: 8)
    _ = try await two.push(transport: toB, batchSize: 8)
    let batches = Array(zip(toA.batches, toB.batches))
    #expect(batches.count == 10)
    let start = try puller.service.latestSequence()
    let pushed = batches
    let finished = Mutex(0)
    let results = simultaneously(
      {
        defer { finished.withLock { $0 += 1 } }
        for (a, _) in pushed { _ = try nodeA.service.push(a) }
        return [Int64]()
      },
      {
        defer { finished.withLock { $0 += 1 } }
        for (_, b) in pushed { _ = try nodeB.service.push(b) }
        return [Int64]()
      },
      {
        // Pull the whole time, as a terminal does: from the cursor, a small page at a time,
        // until both nodes are done and a page comes back empty.
        var cursor = start
        var seen: [Int64] = []
        while true {
          let done = finished.withLock { $0 } == 2
          let page = try puller.service.changes(after: cursor, limit: 7)
          seen += page.map(\.seq)
          cursor = page.last?.seq ?? cursor
          if done && page.isEmpty { return seen }
        }
      }
    )
    let seen = try results[2].get()
    _ = try results[0].get()
    _ = try results[1].get()
    let all = try nodeB.service.changes(after: start, limit: 100_000).map { $0.seq }
    #expect(all.count >= 80, "every violation entered the change log")
    #expect(seen == all, "the cursor saw every change, in order, once")
  }

  /// The database goes away under a node (its connections are cut and new ones refused):
  /// the node answers 503 `store_unavailable`, the terminal keeps its records, and once the
  /// database takes connections again the same node serves the retry by itself.
  @Test func aNodeThatLosesItsDatabaseAnswers503AndRecovers() async throws {
    let url = try TestPostgres.freshDatabase("outage")
    let world = try World(store: .postgresql(url))
    let node = InProcessTransport(endpoint: world.endpoint)
    let terminal = try await world.terminal("T-BJ-0001", transport: node)
    let (licence, plate) = cleanDrivers[0]
    try terminal.recordViolation(licence: licence, plate: plate, offenceCode: "0601", place: "东单")
    let admin = try PostgresDatabase(try #require(TestPostgres.url))
    try admin.execute("ALTER DATABASE \(url.database) ALLOW_CONNECTIONS false")
    try admin.execute(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", url.database)
    let refused = await #expect(throws: APIError.self) {
      _ = try await terminal.push(transport: node, attempts: 1)
    }
    #expect(refused?.httpStatus == 503)
    #expect(refused?.code == "store_unavailable")
    #expect(try terminal.store.pendingRecords(limit: 100).count >= 2, "nothing was lost")
    try admin.execute("ALTER DATABASE \(url.database) ALLOW_CONNECTIONS true")
    let report = try await terminal.push(transport: node, attempts: 1)
    #expect(report.accepted >= 2)
    #expect(try terminal.store.pendingRecords(limit: 100).isEmpty)
  }

  /// Two nodes allocating document numbers at the same instant, for two terminals, round
  /// after round: no number is given twice.
  @Test func numberRangesAtTwoNodesAtOnceNeverOverlap() throws {
    let world = try World(store: .postgresql(try TestPostgres.freshDatabase("ranges")))
    let (nodeA, nodeB) = (Node(try world.central()), Node(try world.central()))
    var ranges: [NumberRange] = []
    for _ in 0..<Self.rounds {
      let results = simultaneously(
        { try nodeA.service.allocateNumbers(terminal: "T-BJ-0001", size: 50) },
        { try nodeB.service.allocateNumbers(terminal: "T-BJ-0002", size: 50) })
      ranges += try results.map { try $0.get() }
    }
    let numbers = ranges.flatMap { range in (range.first...range.last).map { "\(range.year)-\($0)" }
    }
    #expect(numbers.count == Self.rounds * 2 * 50)
    #expect(Set(numbers).count == numbers.count, "a number was allocated twice")
  }
}
