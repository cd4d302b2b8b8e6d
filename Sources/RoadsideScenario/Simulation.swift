import Crypto
public import Foundation
import RoadsideBank
import RoadsideBankProtocol
import RoadsideCentral
import RoadsideCredentials
public import RoadsideDomain
import RoadsideFixtures
import RoadsideHolder
public import RoadsideMutants
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
  /// Rounds of syncing every terminal the healed world took to converge (nil: it did not).
  public let rounds: Int?
  public let traceHash: String
  public let violations: [InvariantViolation]
  /// The deliberate bug the run carried (`--mutant`), if any.
  public let mutant: Mutant?
  /// What the run reached: faults injected, verdicts, deduction states.
  public let coverage: SimulationCoverage
  public var passed: Bool { violations.isEmpty }
  /// The command that replays this run.
  public var replay: String {
    Simulation.replay(
      seed: seed, terminals: terminals, licences: licences, hours: hours, faults: faults,
      mutant: mutant)
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
  /// The deliberate bug central and the terminals carry (`--mutant`), or nil.
  public let mutant: Mutant?

  public init(
    seed: UInt64, terminals: Int, hours: Int, faults: Set<SimulationFault>,
    server: PostgresURL? = nil, nodes: Int = 1, licences: Int? = nil,
    files: SimulationFiles = .memory, template: WorldTemplate? = nil, mutant: Mutant? = nil
  ) {
    self.mutant = mutant
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
    seed: UInt64, terminals: Int, licences: Int?, hours: Int, faults: [SimulationFault],
    mutant: Mutant? = nil
  ) -> String {
    "roadside simulate --seed \(seed) --terminals \(terminals)\(licences.map { " --licences \($0)" } ?? "") --hours \(hours) --faults \(faults.isEmpty ? "none" : faults.map(\.rawValue).joined(separator: ","))\(mutant.map { " --mutant \($0.rawValue)" } ?? "")"
  }

  /// Terminal `index` of the fleet (from 0) and its officer, of the same unit.
  public static func spec(_ index: Int) -> TerminalSpec {
    TerminalSpec(
      id: FixtureGenerator.terminalID(index), officer: FixtureGenerator.officerID(index))
  }

  /// Runs the simulation in a temporary home, or in `home` (kept afterwards, for
  /// inspection).
  public func run(home: URL? = nil) async throws -> SimulationReport {
    try await record(home: home).report
  }

  /// Runs the simulation and returns its schedule as well: every step it took, in order,
  /// with the error of each one refused. With `schedule`, the steps are not drawn from the
  /// seed but replayed as given (in the same world, the same seed's network), which is how
  /// a failing run is shrunk (``shrink(budget:progress:)``).
  public func record(home: URL? = nil, schedule given: [Action]? = nil) async throws
    -> RecordedDay
  {
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
    let scenario = Simulation.scenario(
      seed: seed, terminals: specs, fixtures: (template?.fixturesDirectory ?? generated)?.path)
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
      scratch: files.scratch, mutant: mutant)
    let day = SimulatedDay(world: world, runner: ScenarioRunner(seed: seed, mutant: mutant))
    if let given {
      for action in given { await day.perform(action) }
    } else {
      try await drawDay(day, specs: specs, start: start)
    }
    // The network heals and everything settles (see ``Action/settle``); then the invariants.
    await day.perform(.settle)
    if let error = day.schedule.last?.error {
      throw ScenarioFailure("the world did not settle: \(error)")
    }
    day.state.violations = []
    await day.perform(.invariants)
    if let error = day.schedule.last?.error {
      throw ScenarioFailure("the invariants could not be checked: \(error)")
    }
    var coverage = day.coverage
    let schedule = day.schedule
    let service = try world.central()
    let transcript = day.trace.joined(separator: "\n")
    let deductions = try service.deductions()
    for deduction in deductions {
      coverage.deductions[deduction.state.rawValue, default: 0] += 1
    }
    let divergences = day.state.divergences
    for (kind, count) in divergences.byKind { coverage.conflicts[kind.rawValue] = count }
    let report = SimulationReport(
      seed: seed, terminals: terminals, licences: licences, hours: hours,
      faults: SimulationFault.allCases.filter { faults.contains($0) },
      events: given == nil ? day.events : given!.count,
      records: try world.centralDatabase().fetchOne(
        "SELECT count(*) FROM records", map: { $0.int(0) }) ?? 0,
      documents: day.documents.values.reduce(0) { $0 + $1.count },
      conflicts: try service.conflicts().count,
      divergences: Dictionary(
        uniqueKeysWithValues: divergences.byKind.map { ($0.key.rawValue, $0.value) }),
      settled: deductions.filter { $0.state == .settled }.count,
      kills: schedule.filter {
        switch $0.action {
        case .crash, .crashDuringSync: true
        default: false
        }
      }.count,
      rounds: day.state.watch.rounds,
      traceHash: SHA256.hash(data: Data(transcript.utf8)).map { String(format: "%02x", $0) }
        .joined(),
      violations: day.state.violations, mutant: mutant, coverage: coverage)
    return RecordedDay(report: report, schedule: Array(schedule.dropLast(2)), steps: schedule)
  }

  /// The run as a picture (``Timeline``): every step of the day with the settling and the
  /// check, and what the check found.
  public func timeline() async throws -> (report: SimulationReport, svg: String) {
    let day = try await record()
    let report = day.report
    let steps = day.steps
    let timeline = Timeline(
      title:
        "roadside simulate --seed \(seed): \(terminals) terminal(s), \(hours) h\(mutant.map { ", mutant \($0.rawValue)" } ?? "")",
      terminals: (0..<terminals).map { Simulation.spec($0).id }, steps: steps,
      violations: report.violations)
    return (report, timeline.svg())
  }

  /// The scenario a simulation's world is built from (and a shrunk run is saved as).
  static func scenario(seed: UInt64, terminals: [TerminalSpec], fixtures: String?) -> Scenario {
    Scenario(
      file: "simulation", name: "simulation", description: "", seed: seed, start: Simulation.start,
      terminals: terminals, numbersPerRange: Simulation.numbersPerRange, fixtures: fixtures,
      records: [], balances: [:], steps: [])
  }

  /// Draws the day from the seed, step by step: a random workload across the terminals with
  /// random faults on the simulated clock. Each step is drawn from what the world holds at
  /// that moment (who is logged in, which documents exist, which links are down) and is
  /// then taken through `perform`, so the schedule replays without the seed's draws.
  private func drawDay(_ day: SimulatedDay, specs: [TerminalSpec], start: Timestamp)
    async throws
  {
    let world = day.world
    func perform(_ action: Action) async { await day.perform(action) }
    var random = SeededRandom(seed: seed ^ 0x5EED)
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

    func pick<T>(_ items: [T]) -> T { items[random.int(in: 0...(items.count - 1))] }
    /// A terminal whose officer's session has lapsed is logged in again first.
    func session(_ id: String) async throws {
      if try world.terminal(id).status().officer == nil { await perform(.login(terminal: id)) }
    }
    func stop(
      _ terminal: String, _ driver: LicenceNumber, offence: String, place: String,
      refused: Bool
    ) -> Action {
      let vehicle = vehicleOf[driver]
      return .record(
        Stop(
          terminal: terminal, licence: driver.value, plate: vehicle?.plate.value ?? "京A12345",
          vehicle: (vehicle?.vehicleClass ?? licenceOf[driver]!.classes[0]).rawValue,
          offences: [offence], fines: nil, place: place, refusedToSign: refused))
    }

    while world.clock.now() < end {
      // The workload grows with the fleet: as many events an hour per terminal as at 3.
      await perform(
        .advance(seconds: Int64(max(1, random.int(in: 30...900) * 3 / max(3, ids.count)))))
      day.events += 1
      let id = pick(ids)
      let roll = random.int(in: 0...99)
      switch roll {
      case 0..<22:
        let holder = pick(holders)
        try await session(id)
        await perform(
          .present(
            Presentation(
              terminal: id, holder: holder.value, vehicle: nil, nonce: nil, terminalNonce: nil,
              disclose: nil, delaySeconds: 0, replay: false, stalenessSeconds: nil,
              phoneClockSeconds: 0)))
      case 22..<32:
        let driver = pick(drivers)
        try await session(id)
        await perform(.lookup(terminal: id, licence: driver.value))
      case 50..<52 where ids.count > 1:
        // One driver stopped by two officers: the same red light minutes apart (one event
        // recorded twice), or a second red light later on (6 + 6 points may reach 12 before
        // either terminal knows of the other's decision).
        let driver = pick(drivers)
        let second = pick(ids.filter { $0 != id })
        let sameEvent = random.int(in: 0...1) == 0
        for (index, officer) in [id, second].enumerated() {
          if index == 1 {
            await perform(
              .advance(
                seconds: Int64(
                  sameEvent ? random.int(in: 30...300) : random.int(in: 900...3600))))
          }
          try await session(officer)
          await perform(
            stop(officer, driver, offence: "0601", place: "simulated junction", refused: false))
        }
      case 32..<52:
        let driver = pick(drivers)
        let offence = pick(simple)
        let refused = random.int(in: 0...9) == 0
        try await session(id)
        await perform(stop(id, driver, offence: offence, place: "simulated road", refused: refused))
      case 52..<56:
        if let number = day.documents[id]?.randomElement(using: &random) {
          try await session(id)
          await perform(.void(terminal: id, document: number, reason: "simulated void"))
        }
      case 56..<60:
        // Central suspends a driving licence, or, when it cannot, reinstates it. (Tried, not
        // looked up: reading the licence through the service would close its due points
        // cycles, a write the replayed schedule would not make.)
        let driver = pick(drivers)
        if !(await day.perform(.central(.suspend(driver.value)))) {
          await perform(.central(.reinstate(driver.value)))
        }
      case 60..<63:
        let documents = day.documents
        if let number = documents.keys.sorted().flatMap({ documents[$0]! }).randomElement(
          using: &random)
        {
          await perform(.central(.pay(number)))
        }
      case 63..<80:
        await perform(.sync(terminal: id, mayFail: true))
      case 80..<86:
        await perform(.deduct)
      case 86..<92 where !faults.isEmpty:
        let fault = pick(SimulationFault.allCases.filter { faults.contains($0) })
        let link = try world.link(id)
        var linkFaults = link.state.withLock { $0.faults }
        switch fault {
        case .partition:
          let online = link.state.withLock { $0.online }
          await perform(online ? .offline([id]) : .online([id]))
        case .drop, .duplicate, .reorder, .delay:
          // Added to what the link already suffers.
          switch fault {
          case .drop:
            linkFaults.dropResponses = 0.3
            linkFaults.dropRequests = 0.2
          case .duplicate: linkFaults.duplicate = 0.3
          case .reorder: linkFaults.reorder = 0.3
          default: linkFaults.delaySeconds = 20
          }
          await perform(.link(terminal: id, linkFaults))
        case .crash:
          // Central's process, a terminal's between two operations, or a terminal's in the
          // middle of a sync, at one of its commits.
          switch random.int(in: 0...3) {
          case 0: await perform(.crash("central"))
          case 1:
            await perform(.crashDuringSync(terminal: id, afterCommits: random.int(in: 0...3)))
          default: await perform(.crash(id))
          }
        case .skew:
          let minutes = Int64(random.int(in: 6...20))
          await perform(
            .skew(terminal: id, seconds: (random.int(in: 0...1) == 0 ? 60 : -60) * minutes))
        case .region:
          await perform(.offline(ids.filter { unitOf[$0] == unitOf[id] }))
        case .bank:
          let kinds: [BankFault.Kind] = [.unavailable, .timeoutAfterCommit, .insufficientFunds]
          let kind = pick(kinds)
          await perform(.bankFault(kind: kind.rawValue, after: random.int(in: 0...2), times: 1))
        }
        day.coverage.faults[fault.rawValue, default: 0] += 1
      default:
        await perform(.link(terminal: id, LinkFaults()))
        await perform(.online([id]))
      }
    }
  }

}

/// A day as it is lived: the world, the runner that takes each step, and what the steps
/// left (the schedule, the trace, the documents made, what was reached).
private final class SimulatedDay {
  let world: ScenarioWorld
  let runner: ScenarioRunner
  var state = ScenarioRunner.RunState()
  var schedule: [ScheduledStep] = []
  var trace: [String] = []
  var documents: [String: [String]] = [:]
  var coverage = SimulationCoverage()
  var events = 0

  init(world: ScenarioWorld, runner: ScenarioRunner) {
    self.world = world
    self.runner = runner
  }

  /// Takes one step through the scenario runner (the same code `scenario run` uses),
  /// noting it in the schedule and the trace; a refusal is part of the day, not its end.
  /// False when the step was refused.
  @discardableResult
  func perform(_ action: Action) async -> Bool {
    let at = world.clock.now()
    do {
      let outcome = try await runner.perform(action, in: world, state: &state)
      schedule.append(ScheduledStep(action: action, error: nil, at: at, outcome: outcome))
      trace.append("\(at) \(runner.describe(action)): \(outcome.joined(separator: "; "))")
      if case .present = action, let verdict = state.verdict {
        coverage.verdicts[verdict.outcome.rawValue, default: 0] += 1
        for reason in verdict.reasons {
          coverage.verdicts["reason \(reason.code)", default: 0] += 1
        }
      }
      if case .record(let stop) = action, let report = state.stop {
        documents[stop.terminal, default: []] += report.documents.map(\.number)
      }
      return true
    } catch {
      schedule.append(ScheduledStep(action: action, error: "\(error)", at: at, outcome: []))
      trace.append("\(at) \(runner.describe(action)) refused: \(error)")
      return false
    }
  }
}

/// A day as it was lived: its report, its schedule (the steps drawn or given) and every step
/// taken, the settling and the check included.
public struct RecordedDay: Sendable {
  public let report: SimulationReport
  public let schedule: [ScheduledStep]
  public let steps: [ScheduledStep]
}

/// One step of a simulated day, as it was taken: the action and, when it was refused, why.
public struct ScheduledStep: Sendable {
  public let action: Action
  public let error: String?
  /// When it was taken, on the world's clock.
  public let at: Timestamp
  /// What it did (as the transcript says).
  public let outcome: [String]
  /// The step as a scenario file writes it.
  public var yaml: String { yamlStep(action) }
}

extension ScenarioWorld {
  /// The end of a day (``Action/settle``): every link up and clean, every terminal clock
  /// set right (central refuses requests more than 5 minutes off, so a skewed terminal syncs
  /// only once corrected), no bank faults; every terminal syncs until its outbox is empty,
  /// deductions are driven until none is open, and every terminal pulls once more.
  func settle() async throws -> (lines: [String], rounds: Int?) {
    try BankStore.open(path: bankPath).clearFaults()
    for id in order {
      try link(id).state.withLock {
        $0.faults = LinkFaults()
        $0.online = true
      }
      terminalClocks[id]?.set(offsetSeconds: 0)
    }
    // A refusal is noted and the settling goes on: what it leaves undone is for the
    // invariants to find (a record never accepted stays in its outbox).
    var refused: [String] = []
    func attempt(_ what: String, _ body: () async throws -> Void) async {
      do { try await body() } catch { refused.append("\(what): \(error)") }
    }
    // Rounds of syncing every terminal until the world converges (every outbox empty, every
    // cursor at central's latest change), at most twice the bound the property allows.
    var rounds: Int?
    for round in 1...(2 * PropertyWatch.roundBound) {
      for id in order {
        await attempt("\(id) push") {
          _ = try await terminal(id).push(transport: try link(id), attempts: 3, sleep: { _ in })
        }
        await attempt("\(id) pull") { _ = try await terminal(id).pull(transport: try link(id)) }
      }
      if try converged() {
        rounds = round
        break
      }
    }
    for _ in 0..<4 {
      await attempt("deductions") { _ = try await central().runDeductions(bank: bank) }
    }
    for id in order {
      await attempt("\(id) pull") { _ = try await terminal(id).pull(transport: try link(id)) }
    }
    let converged = rounds.map { "converged in \($0) round(s)" } ?? "did not converge"
    return (
      refused.isEmpty
        ? ["every link healed; \(converged); every deduction run"]
        : ["every link healed; \(converged); refused on the way: \(refused.count)"]
          + refused.prefix(3), rounds
    )
  }

  /// Every outbox empty and every cursor at central's latest change (a terminal reported
  /// lost is left out: central refuses it).
  func converged() throws -> Bool {
    let central = try centralDatabase()
    let latest = try central.fetchOne("SELECT max(seq) FROM change_log") { $0.int64(0) } ?? 0
    let revoked = Set(
      try central.fetchAll("SELECT id FROM terminals WHERE status = 'revoked'") { $0.text(0) })
    for id in order where !revoked.contains(id) {
      let store = try terminal(id).store
      if try store.outboxDepth() > 0 || store.syncState().cursor != latest { return false }
    }
    return true
  }

  /// The invariants (see ``Invariants``), checked on the files: central's, the bank's and
  /// each terminal's, and the ledgers reconciled for every day since the world began.
  func invariants() async throws -> (Invariants.Divergences, [InvariantViolation]) {
    var violations: [InvariantViolation] = []
    func fail(_ invariant: String, _ detail: String) {
      violations.append(InvariantViolation(invariant: invariant, detail: detail))
    }
    let centralDB = try centralDatabase()
    let bankDB = try Connection(path: bankPath)
    if let sqlite = centralDB as? Connection {
      violations += try Invariants.integrity(sqlite, "central.sqlite")
    }
    violations += try Invariants.integrity(bankDB, "bank.sqlite")
    for id in order {
      let db = try Connection(path: terminalPath(id))
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
    let last = clock.now().chinaDate
    let service = try central()
    while day <= last {
      let result = try await service.reconcile(on: day, bank: bank)
      for difference in result.differences {
        fail("reconcile", "\(day): \(difference.description)")
      }
      day = day.adding(days: 1)
    }
    return (divergences, violations)
  }
}
