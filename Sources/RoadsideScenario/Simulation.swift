import Crypto
public import Foundation
import RoadsideBank
import RoadsideBankProtocol
import RoadsideCentral
import RoadsideCredentials
public import RoadsideDomain
import RoadsideFixtures
import RoadsideHolder
public import RoadsidePostgres
public import RoadsideProtocol
import RoadsideStorage
import RoadsideTerminal
import Synchronization

/// The faults a simulation may inject.
public enum SimulationFault: String, Sendable, CaseIterable, Codable {
  case partition, drop, duplicate, reorder, delay, crash, bank
  /// A terminal's clock set 6–20 minutes wrong, ahead or behind.
  case skew
  /// A regional outage: every terminal of one unit off the network at once.
  case region
}

/// One violated invariant.
public struct InvariantViolation: Sendable, Codable, Equatable, CustomStringConvertible {
  public let invariant: String
  public let detail: String
  public var description: String { "\(invariant): \(detail)" }
}

public struct SimulationReport: Sendable, Codable, Equatable {
  public let seed: UInt64
  public let terminals: Int
  /// The licences of a generated world, or nil for the shipped fixtures.
  public let licences: Int?
  public let hours: Int
  public let faults: [SimulationFault]
  public let events: Int
  public let records: Int
  public let documents: Int
  public let conflicts: Int
  /// Divergences the workload created, by the kind of conflict each required (stale checks,
  /// superseded e-licences, duplicate events, unseen 12-point crossings, voids and counter
  /// payments over a deduction, skewed clocks).
  public let divergences: [String: Int]
  public let settled: Int
  public let kills: Int
  public let traceHash: String
  public let violations: [InvariantViolation]
  /// What the run reached: faults injected, verdicts, deduction states.
  public let coverage: SimulationCoverage
  public var passed: Bool { violations.isEmpty }
  /// The command that replays this run.
  public var replay: String {
    Simulation.replay(
      seed: seed, terminals: terminals, licences: licences, hours: hours, faults: faults)
  }
}

/// What one run, or many, reached, kind by kind: the conflicts the workload required are the
/// report's divergences; here are the faults injected, the checks' verdicts and reasons, and
/// the states the deductions ended in.
public struct SimulationCoverage: Sendable, Codable, Equatable {
  /// Faults injected, by kind.
  public var faults: [String: Int] = [:]
  /// Checks by verdict (`VALID`, `INVALID`, …) and by reason code (`reason stale_cache`).
  public var verdicts: [String: Int] = [:]
  /// Deductions by the state they ended in.
  public var deductions: [String: Int] = [:]
  /// Divergences the workload created, by the kind of conflict each required.
  public var conflicts: [String: Int] = [:]

  public init() {}

  /// The sum of two coverages, kind by kind.
  public func merging(_ other: SimulationCoverage) -> SimulationCoverage {
    var sum = self
    sum.faults.merge(other.faults, uniquingKeysWith: +)
    sum.verdicts.merge(other.verdicts, uniquingKeysWith: +)
    sum.deductions.merge(other.deductions, uniquingKeysWith: +)
    sum.conflicts.merge(other.conflicts, uniquingKeysWith: +)
    return sum
  }

  /// One "sometimes" goal: a kind that a run of the default 100 seeds should reach at least
  /// once.
  public struct Goal: Sendable, Codable, Equatable, CustomStringConvertible {
    public let category: String
    public let name: String
    public var description: String { "\(category) \(name)" }
  }

  /// The conflicts the workload can create. `revoked_terminal`, `unknown_officer` and
  /// `lockout_bypassed` need a terminal reported lost, a record of an officer of another
  /// unit or a terminal's lockout bypassed, which the workload does not make (the scenarios
  /// and the hostile-client tests do).
  public static let reachableConflicts: [ConflictKind] = [
    .duplicateEvent, .staleStatus, .supersededEpoch, .pointsCross12, .clockSkew,
    .voidAfterDeduction, .paidBeforeDeduction,
  ]

  /// The sometimes goals of a run with `faults` and `terminals`: every fault injected and
  /// every conflict the run can create required at least once (`clock_skew` needs the skew
  /// fault; `duplicate_event` needs two terminals to stop one driver), a deduction settled
  /// and one reversed.
  public static func goals(faults: Set<SimulationFault>, terminals: Int) -> [Goal] {
    let conflicts = reachableConflicts.filter { kind in
      switch kind {
      case .clockSkew: faults.contains(.skew)
      case .duplicateEvent: terminals > 1
      default: true
      }
    }
    return SimulationFault.allCases.filter { faults.contains($0) }.map {
      Goal(category: "fault", name: $0.rawValue)
    } + conflicts.map { Goal(category: "conflict", name: $0.rawValue) }
      + [DeductionState.settled, .reversed].map { Goal(category: "deduction", name: $0.rawValue) }
  }

  /// The goals not reached.
  public func unreached(_ goals: [Goal]) -> [Goal] {
    goals.filter { goal in
      let counts: [String: Int] =
        switch goal.category {
        case "fault": faults
        case "conflict": conflicts
        default: deductions
        }
      return (counts[goal.name] ?? 0) == 0
    }
  }
}

/// A deterministic simulation: a random workload across terminals with random faults on the
/// simulated clock, then the network heals, everything syncs and deductions settle, and the
/// invariants are checked. The same seed gives the same trace.
public struct Simulation: Sendable {
  public let seed: UInt64
  public let terminals: Int
  public let hours: Int
  public let faults: Set<SimulationFault>
  /// A PostgreSQL server to put central on (each run in a new database of its own, dropped
  /// afterwards), or nil for the home's SQLite file.
  public let server: PostgresURL?
  /// Central nodes: endpoints with their own connections, the terminals spread over them.
  public let nodes: Int
  /// The licences of the world when it is generated (see ``population``).
  public let licences: Int?
  /// Where each seed's files are kept (see ``SimulationFiles``).
  public let files: SimulationFiles
  /// The home each seed's world starts from (files in memory, central on SQLite), or nil
  /// to assemble each world from the fixtures.
  public let template: WorldTemplate?

  public init(
    seed: UInt64, terminals: Int, hours: Int, faults: Set<SimulationFault>,
    server: PostgresURL? = nil, nodes: Int = 1, licences: Int? = nil,
    files: SimulationFiles = .memory, template: WorldTemplate? = nil
  ) {
    self.licences = licences
    self.seed = seed
    self.terminals = terminals
    self.hours = hours
    self.faults = faults
    self.server = server
    self.nodes = nodes
    self.files = files
    self.template = server == nil ? template : nil
  }

  /// The simulation's clock starts here, every seed.
  public static let start = Timestamp(iso: "2026-11-23T08:00:00+08:00")!
  /// Document numbers in each range central gives a terminal.
  public static let numbersPerRange = 200
  /// Terminals the shipped fixtures have; a larger fleet needs a generated world.
  public static let shippedTerminals = 6
  /// The most terminals a simulation runs.
  public static let maximumTerminals = 1_000

  /// The generated world of a run, or nil for the shipped fixtures (240 licences, 6
  /// terminals): generated when `licences` is given or the fleet is larger than 6, with
  /// `licences` licences (default 4 per terminal, at least 240: every terminal pulls the whole
  /// world at enrolment) and at least 6 terminals.
  /// The world is the same for every seed (generator seed 1, dated the simulation's first
  /// day); the seed draws the workload and the faults.
  public static func population(terminals: Int, licences: Int?) -> WorldPopulation? {
    guard licences != nil || terminals > shippedTerminals else { return nil }
    return WorldPopulation(
      licences: licences ?? max(240, 4 * terminals), terminals: max(shippedTerminals, terminals))
  }

  /// The command that replays one seed of a run.
  public static func replay(
    seed: UInt64, terminals: Int, licences: Int?, hours: Int, faults: [SimulationFault]
  ) -> String {
    "roadside simulate --seed \(seed) --terminals \(terminals)\(licences.map { " --licences \($0)" } ?? "") --hours \(hours) --faults \(faults.isEmpty ? "none" : faults.map(\.rawValue).joined(separator: ","))"
  }

  /// Terminal `index` of the fleet (from 0) and its officer, of the same unit.
  static func spec(_ index: Int) -> TerminalSpec {
    TerminalSpec(
      id: FixtureGenerator.terminalID(index), officer: FixtureGenerator.officerID(index))
  }

  /// Runs the simulation in a temporary home, or in `home` (kept afterwards, for
  /// inspection).
  public func run(home: URL? = nil) async throws -> SimulationReport {
    let start = Simulation.start
    let specs = (0..<terminals).map(Simulation.spec)
    let population = Simulation.population(terminals: terminals, licences: licences)
    if let template, template.population != population {
      throw ScenarioFailure(
        "the world template holds \(template.population.map { "\($0.licences) licences and \($0.terminals) terminals" } ?? "the shipped fixtures"), not this run's world"
      )
    }
    // A generated world without a template is generated for this seed alone.
    let generated =
      population != nil && template == nil
      ? files.scratch.appendingPathComponent(
        "roadside-fixtures-\(UUID().uuidString)", isDirectory: true) : nil
    defer { if let generated { try? FileManager.default.removeItem(at: generated) } }
    if let population, let generated {
      _ = try population.generate(into: generated, on: start.chinaDate)
    }
    let scenario = Scenario(
      file: "simulation", name: "simulation", description: "", seed: seed, start: start,
      terminals: specs, numbersPerRange: Simulation.numbersPerRange,
      fixtures: (template?.fixturesDirectory ?? generated)?.path, records: [], balances: [:],
      steps: [])
    var store: CentralStoreLocation?
    var database: String?
    if let server {
      let name = "roadside_sim_\(seed)_\(UUID().uuidString.lowercased().prefix(8))"
      store = .postgresql(try server.creatingDatabase(name))
      database = name
    }
    defer { if let server, let database { try? server.droppingDatabase(database) } }
    let world = try await ScenarioWorld(
      scenario, seed: seed, home: home, store: store, nodes: nodes, template: template,
      scratch: files.scratch)
    var random = SeededRandom(seed: seed ^ 0x5EED)
    var trace: [String] = []
    var documents: [String: [String]] = [:]
    var kills = 0
    let central = { try world.central() }
    let drivers = world.fixtures.licences.filter { $0.status.permitsDriving }.map(\.number)
    let licenceOf = Dictionary(
      world.fixtures.licences.map { ($0.number, $0) }, uniquingKeysWith: { first, _ in first })
    var vehicleOf: [LicenceNumber: VehicleRecord] = [:]
    for vehicle in world.fixtures.vehicles where vehicleOf[vehicle.owner] == nil {
      vehicleOf[vehicle.owner] = vehicle
    }
    let unitOf = Dictionary(
      world.fixtures.terminals.map { ($0.id, $0.unit) }, uniquingKeysWith: { first, _ in first })
    let holders = drivers.filter {
      (try? HolderPhone.load(home: world.home, licence: $0))??.elicence != nil
    }
    let ids = specs.map(\.id)
    let simple = ["0601", "0111", "0105", "0106", "0301", "0304", "0107", "0906"]
    let end = start.adding(seconds: Int64(hours) * 3600)
    var events = 0
    var coverage = SimulationCoverage()

    func note(_ line: String) { trace.append("\(world.clock.now()) \(line)") }
    func pick<T>(_ items: [T]) -> T { items[random.int(in: 0...(items.count - 1))] }
    func withSession(_ id: String) throws -> Terminal {
      let terminal = try world.terminal(id)
      if try terminal.status().officer == nil {
        try terminal.logIn(officer: world.officers[id]!)
      }
      return terminal
    }

    while world.clock.now() < end {
      // The workload grows with the fleet: as many events an hour per terminal as at 3.
      world.clock.advance(
        seconds: Int64(max(1, random.int(in: 30...900) * 3 / max(3, ids.count))))
      events += 1
      let id = pick(ids)
      let roll = random.int(in: 0...99)
      do {
        switch roll {
        case 0..<22:
          let holder = pick(holders)
          guard let code = try world.holder().present(holder, at: world.clock.now())?.code
          else { break }
          let verdict = try withSession(id).verify(code, vehicle: nil, nonce: nil).verdict
          coverage.verdicts[verdict.outcome.rawValue, default: 0] += 1
          for reason in verdict.reasons {
            coverage.verdicts["reason \(reason.code)", default: 0] += 1
          }
          note(
            "\(id) check \(holder.masked) \(verdict.outcome.rawValue) \(verdict.reasons.map(\.code))"
          )
        case 22..<32:
          let found = try withSession(id).lookup(pick(drivers)).found
          note("\(id) lookup found=\(found)")
        case 50..<52 where ids.count > 1:
          // One driver stopped by two officers: the same red light minutes apart (one event
          // recorded twice), or a second red light later on (6 + 6 points may reach 12 before
          // either terminal knows of the other's decision).
          let driver = pick(drivers)
          let vehicle = vehicleOf[driver]
          let licence = licenceOf[driver]!
          let second = pick(ids.filter { $0 != id })
          let sameEvent = random.int(in: 0...1) == 0
          for (index, officer) in [id, second].enumerated() {
            if index == 1 {
              world.clock.advance(
                seconds: Int64(sameEvent ? random.int(in: 30...300) : random.int(in: 900...3600)))
            }
            let report = try withSession(officer).recordStop(
              licence: driver, plate: vehicle?.plate ?? (try Plate("京A12345")),
              vehicle: vehicle?.vehicleClass ?? licence.classes[0], offences: [("0601", nil)],
              place: "simulated junction", locationCode: nil, note: nil, refusedToSign: false)
            documents[officer, default: []] += report.documents.map(\.number)
            note(
              "\(officer) stop \(report.documents.map { "\($0.kind) \($0.number)" }) \(sameEvent ? "same event" : "again")"
            )
          }
        case 32..<52:
          let driver = pick(drivers)
          let vehicle = vehicleOf[driver]
          let licence = licenceOf[driver]!
          let report = try withSession(id).recordStop(
            licence: driver, plate: vehicle?.plate ?? (try Plate("京A12345")),
            vehicle: vehicle?.vehicleClass ?? licence.classes[0],
            offences: [(pick(simple), nil)], place: "simulated road", locationCode: nil,
            note: nil, refusedToSign: random.int(in: 0...9) == 0)
          documents[id, default: []] += report.documents.map(\.number)
          note("\(id) stop \(report.documents.map { "\($0.kind) \($0.number)" })")
        case 52..<56:
          if let number = documents[id]?.randomElement(using: &random) {
            _ = try withSession(id).voidDocument(number, reason: "simulated void")
            note("\(id) void \(number)")
          }
        case 56..<60:
          let driver = pick(drivers)
          let service = try central()
          if (try? service.suspend(driver, until: nil, reason: "simulation")) != nil {
            note("central suspend \(driver.masked)")
          } else if (try? service.reinstate(driver, reason: "simulation")) != nil {
            note("central reinstate \(driver.masked)")
          }
        case 60..<63:
          if let number = documents.keys.sorted().flatMap({ documents[$0]! }).randomElement(
            using: &random),
            (try? central().payAtCounter(number)) != nil
          {
            note("central pay \(number)")
          }
        case 63..<80:
          let link = try world.link(id)
          let terminal = try world.terminal(id)
          _ = try? await terminal.push(transport: link, attempts: 2, sleep: { _ in })
          _ = try? await terminal.pull(transport: link)
          note("\(id) sync depth=\(try terminal.store.outboxDepth())")
        case 80..<86:
          let run = try await central().runDeductions(bank: world.bank)
          note("deduct settled=\(run.settled.count) unknown=\(run.unknown.count)")
        case 86..<92 where !faults.isEmpty:
          let fault = pick(SimulationFault.allCases.filter { faults.contains($0) })
          let link = try world.link(id)
          switch fault {
          case .partition:
            link.state.withLock { $0.online.toggle() }
          case .drop:
            link.state.withLock {
              $0.faults.dropResponses = 0.3; $0.faults.dropRequests = 0.2
            }
          case .duplicate: link.state.withLock { $0.faults.duplicate = 0.3 }
          case .reorder: link.state.withLock { $0.faults.reorder = 0.3 }
          case .delay: link.state.withLock { $0.faults.delaySeconds = 20 }
          case .crash:
            if random.int(in: 0...3) == 0 {
              try world.crash("central")
            } else {
              try world.crash(id)
            }
            kills += 1
          case .skew:
            let minutes = Int64(random.int(in: 6...20))
            world.terminalClocks[id]?.set(
              offsetSeconds: (random.int(in: 0...1) == 0 ? 60 : -60) * minutes)
          case .region:
            for member in ids where unitOf[member] == unitOf[id] {
              try world.link(member).state.withLock { $0.online = false }
            }
          case .bank:
            let kinds: [BankFault.Kind] = [.unavailable, .timeoutAfterCommit, .insufficientFunds]
            _ = try BankStore.open(path: world.bankPath).addFault(
              pick(kinds), after: random.int(in: 0...2), times: 1, delayMilliseconds: 0)
          }
          coverage.faults[fault.rawValue, default: 0] += 1
          note("fault \(fault.rawValue) \(id)")
        default:
          try world.link(id).state.withLock {
            $0.faults = LinkFaults(); $0.online = true
          }
          note("heal \(id)")
        }
      } catch {
        note("\(id) refused: \(error)")
      }
    }

    // Heal: every link up and clean, every terminal clock set right (central refuses
    // requests more than 5 minutes off, so a skewed terminal syncs only once corrected), no
    // bank faults; sync until every outbox is empty, then drive deductions until none is
    // open, then pull once more.
    try BankStore.open(path: world.bankPath).clearFaults()
    for id in ids {
      try world.link(id).state.withLock {
        $0.faults = LinkFaults(); $0.online = true
      }
      world.terminalClocks[id]?.set(offsetSeconds: 0)
    }
    for _ in 0..<3 {
      for id in ids {
        let terminal = try world.terminal(id)
        _ = try await terminal.push(transport: try world.link(id), attempts: 3, sleep: { _ in })
        _ = try await terminal.pull(transport: try world.link(id))
      }
    }
    for _ in 0..<4 { _ = try await central().runDeductions(bank: world.bank) }
    for id in ids { _ = try await world.terminal(id).pull(transport: try world.link(id)) }

    let (divergences, violations) = try await check(world, ids: ids, start: start)
    let service = try central()
    let transcript = trace.joined(separator: "\n")
    let deductions = try service.deductions()
    for deduction in deductions {
      coverage.deductions[deduction.state.rawValue, default: 0] += 1
    }
    for (kind, count) in divergences.byKind { coverage.conflicts[kind.rawValue] = count }
    return SimulationReport(
      seed: seed, terminals: terminals, licences: licences, hours: hours,
      faults: SimulationFault.allCases.filter { faults.contains($0) }, events: events,
      records: try world.centralDatabase().fetchOne(
        "SELECT count(*) FROM records", map: { $0.int(0) }) ?? 0,
      documents: documents.values.reduce(0) { $0 + $1.count },
      conflicts: try service.conflicts().count,
      divergences: Dictionary(
        uniqueKeysWithValues: divergences.byKind.map { ($0.key.rawValue, $0.value) }),
      settled: deductions.filter { $0.state == .settled }.count, kills: kills,
      traceHash: SHA256.hash(data: Data(transcript.utf8)).map { String(format: "%02x", $0) }
        .joined(),
      violations: violations, coverage: coverage)
  }

  /// The invariants, checked on the files after the heal (see ``Invariants``).
  func check(_ world: ScenarioWorld, ids: [String], start: Timestamp) async throws
    -> (Invariants.Divergences, [InvariantViolation])
  {
    var violations: [InvariantViolation] = []
    func fail(_ invariant: String, _ detail: String) {
      violations.append(InvariantViolation(invariant: invariant, detail: detail))
    }
    let centralDB = try world.centralDatabase()
    let bankDB = try Connection(path: world.bankPath)
    if let sqlite = centralDB as? Connection {
      violations += try Invariants.integrity(sqlite, "central.sqlite")
    }
    violations += try Invariants.integrity(bankDB, "bank.sqlite")
    for id in ids {
      let db = try Connection(path: world.terminalPath(id))
      violations += try Invariants.integrity(db, "\(id)'s file")
      violations += try Invariants.recordsOnce(terminal: db, id: id, central: centralDB)
      violations += try Invariants.cacheConverged(terminal: db, id: id, central: centralDB)
    }
    violations += try Invariants.chargedOnce(central: centralDB, bank: bankDB, settled: true)
    let (divergences, unrecorded) = try Invariants.conflictsRecorded(
      central: centralDB, bank: bankDB)
    violations += unrecorded
    // The ledgers reconcile to zero for every day of the run.
    var day = start.chinaDate
    let last = world.clock.now().chinaDate
    let service = try world.central()
    while day <= last {
      let result = try await service.reconcile(on: day, bank: world.bank)
      for difference in result.differences {
        fail("reconcile", "\(day): \(difference.description)")
      }
      day = day.adding(days: 1)
    }
    return (divergences, violations)
  }
}
