import Foundation
import RoadsideBank
import RoadsideBankProtocol
import RoadsideCentral
import RoadsideCentralServer
public import RoadsideDomain
import RoadsideFixtures
import RoadsideHolder
public import RoadsideMutants
import RoadsidePostgres
import RoadsideProtocol
import RoadsideStorage
import RoadsideTerminal
import Synchronization

/// The scenario's clock: it moves only when a step (or a delayed message) moves it.
public final class SimulatedClock: RoadsideDomain.Clock, Sendable {
  private let instant: Mutex<Timestamp>
  public init(_ start: Timestamp) { instant = Mutex(start) }
  public func now() -> Timestamp { instant.withLock { $0 } }
  public func advance(seconds: Int64) { instant.withLock { $0 = $0.adding(seconds: seconds) } }
}

/// A terminal's own clock: the world's, possibly set wrong by an offset (clock skew).
final class TerminalClock: RoadsideDomain.Clock, Sendable {
  let base: SimulatedClock
  private let offset = Mutex<Int64>(0)
  init(_ base: SimulatedClock) { self.base = base }
  func now() -> Timestamp { base.now().adding(seconds: offset.withLock { $0 }) }
  func set(offsetSeconds: Int64) { offset.withLock { $0 = offsetSeconds } }
}

/// The simulated network between one terminal and central: on or off the network, and
/// seeded faults — requests lost on the way, answers lost on the way back (after central
/// applied the request), duplicated deliveries, and a delay that passes on the clock.
final class SimulatedLink: CentralTransport {
  struct State {
    var online = true
    var faults = LinkFaults()
    var random: SeededRandom
    var delivered = 0
    var lost = 0
    var duplicated = 0
    /// A push held back by `reorder` (as signed), delivered after the next one.
    var held: (batch: PushBatch, signer: RequestSigner)?
  }

  let central: @Sendable () -> InProcessTransport
  let clock: SimulatedClock
  let state: Mutex<State>

  init(seed: UInt64, clock: SimulatedClock, central: @escaping @Sendable () -> InProcessTransport) {
    self.central = central
    self.clock = clock
    state = Mutex(State(random: SeededRandom(seed: seed)))
  }

  /// Decides the fate of one message: (deliver, duplicate, lose the answer).
  private func fate() throws -> (duplicate: Bool, loseAnswer: Bool) {
    try state.withLock { s in
      guard s.online else { throw TransportError("the terminal is off the network") }
      if s.faults.delaySeconds > 0 { clock.advance(seconds: s.faults.delaySeconds) }
      if s.random.unit() < s.faults.dropRequests {
        s.lost += 1
        throw TransportError("the request was lost on the network")
      }
      s.delivered += 1
      let duplicate = s.random.unit() < s.faults.duplicate
      if duplicate { s.duplicated += 1 }
      let lose = s.random.unit() < s.faults.dropResponses
      if lose { s.lost += 1 }
      return (duplicate, lose)
    }
  }

  func health() async throws -> HealthResponse {
    _ = try fate()
    return try await central().health()
  }

  func register(_ request: RegisterRequest, signer: RequestSigner) async throws
    -> RegisterResponse
  {
    try await central().register(request, signer: signer)
  }

  func changes(terminal: String, after: Int64, limit: Int, signer: RequestSigner) async throws
    -> ChangesResponse
  {
    let (_, loseAnswer) = try fate()
    let answer = try await central().changes(
      terminal: terminal, after: after, limit: limit, signer: signer)
    if loseAnswer { throw TransportError("the answer was lost on the network") }
    return answer
  }

  /// A duplicated delivery arrives as the terminal's retry would (signed again: central
  /// refuses a replayed nonce, which the hostile-client tests cover on the live server).
  func push(_ batch: PushBatch, signer: RequestSigner) async throws -> PushResponse {
    let (duplicate, loseAnswer) = try fate()
    let (holdBack, late) = state.withLock {
      s -> (Bool, (batch: PushBatch, signer: RequestSigner)?) in
      let late = s.held
      s.held = nil
      if late == nil, s.faults.reorder > 0, s.random.unit() < s.faults.reorder {
        s.held = (batch, signer)
        return (true, nil)
      }
      return (false, late)
    }
    if holdBack { throw TransportError("the request is held up on the network") }
    let answer = try await central().push(batch, signer: signer)
    if duplicate { _ = try await central().push(batch, signer: signer) }
    // The batch held up earlier arrives now, after this one.
    if let late { _ = try await central().push(late.batch, signer: late.signer) }
    if loseAnswer { throw TransportError("the answer was lost on the network") }
    return answer
  }
}

extension SeededRandom {
  /// A value in [0, 1).
  mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
}

/// Everything a scenario runs against, in a temporary home: central, its bank, terminals
/// with their links, the holders' phones, the clock. Production code paths throughout; only
/// the clock and the wire are simulated.
final class ScenarioWorld {
  let home: URL
  let clock: SimulatedClock
  /// When the world's day began.
  let start: Timestamp
  /// The deliberate bug central and the terminals carry, if any (`--mutant`).
  let mutant: Mutant?
  var random: SeededRandom
  let centralPath: String
  /// Where central lives: the home's SQLite file, or a PostgreSQL database.
  let location: CentralStoreLocation
  let bankPath: String
  /// One box per central node, each an endpoint with its own connection to the store;
  /// terminal i syncs through node i mod count.
  private let endpointBoxes: [EndpointBox]
  var bank: BankEndpoint
  var terminals: [String: Terminal] = [:]
  /// The terminals in the order the world declares them.
  var order: [String] = []
  var links: [String: SimulatedLink] = [:]
  var identifierSeeds: [String: UInt64] = [:]
  var officers: [String: String] = [:]
  var terminalClocks: [String: TerminalClock] = [:]
  let fixtures: FixtureSet

  /// Whether the home is removed with the world (a temporary one is; a given one is kept).
  let ownsHome: Bool

  /// Builds the world in `given` (kept), or in a new folder under `scratch` (default: the
  /// temporary folder) that goes with the world. With `template` (a SQLite world only), the
  /// home starts as a copy of the template's instead of being assembled from the fixtures.
  init(
    _ scenario: Scenario, seed: UInt64, home given: URL? = nil,
    store: CentralStoreLocation? = nil, nodes: Int = 1, template: WorldTemplate? = nil,
    scratch: URL? = nil, mutant: Mutant? = nil
  ) async throws {
    ownsHome = given == nil
    self.mutant = mutant
    start = scenario.start
    home =
      given
      ?? (scratch ?? FileManager.default.temporaryDirectory)
      .appendingPathComponent("roadside-scenario-\(UUID().uuidString)", isDirectory: true)
    clock = SimulatedClock(scenario.start)
    random = SeededRandom(seed: seed)
    centralPath = HomeLayout(home: home).centralStore.path
    location = store ?? .file(centralPath)
    bankPath = HomeLayout(home: home).bankStore.path
    if let template {
      guard store == nil, scenario.records.isEmpty,
        scenario.fixtures == template.fixturesDirectory?.path,
        template.start == scenario.start, template.numbersPerRange == scenario.numbersPerRange
      else {
        throw ScenarioFailure(
          "a world template holds its fixtures on SQLite at \(template.start) with \(template.numbersPerRange) numbers per range; this world differs, so build it without one"
        )
      }
      try template.copy(to: home)
      fixtures = template.fixtures
    } else {
      try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
      fixtures = try ScenarioWorld.loadFixtures(scenario, into: home)
      try ScenarioWorld.assemble(
        home, store: location, fixtures: fixtures, seed: seed, clock: clock,
        numbersPerRange: scenario.numbersPerRange)
    }
    let store = try BankStore.open(path: bankPath)
    for (licence, yuan) in scenario.balances {
      guard let mandate = fixtures.mandates.first(where: { $0.licence.value == licence }) else {
        throw ScenarioFailure("licence \(licence) has no mandate, so no bank account to fund")
      }
      try store.setBalance(mandate.account, Money(yuan: yuan))
    }
    bank = try BankEndpoint(path: bankPath)
    let location = self.location
    endpointBoxes = try (0..<max(1, nodes)).map { [clock] _ in
      EndpointBox(try CentralEndpoint(location: location, clock: clock, mutant: mutant))
    }
    for (index, spec) in scenario.terminals.enumerated() {
      try await addTerminal(spec, index: index, seed: seed)
    }
  }

  deinit { if ownsHome { try? FileManager.default.removeItem(at: home) } }

  /// Assembles a world's home from `fixtures` as `roadside central init` does (the bank
  /// called in-process), its issuer key drawn from `seed`.
  static func assemble(
    _ home: URL, store: CentralStoreLocation? = nil, fixtures: FixtureSet, seed: UInt64,
    clock: SimulatedClock, numbersPerRange: Int
  ) throws {
    var keyRandom = SeededRandom(seed: seed &+ 1)
    _ = try WorldAssembly.assemble(
      HomeLayout(home: home), store: store, fixtures: fixtures, source: "default", clock: clock,
      issuerKeySeed: (0..<32).map { _ in UInt8(truncatingIfNeeded: keyRandom.next()) },
      numbersPerRange: numbersPerRange, minimumPINIterations: ScenarioWorld.pinIterations)
  }

  /// The fixture set: the default or given directory, plus the scenario's inline records
  /// (written after the directory's own, into a copy under the home, and loaded strictly).
  /// A record the loader refuses is reported at its line in the scenario.
  static func loadFixtures(_ scenario: Scenario, into home: URL) throws -> FixtureSet {
    let base =
      scenario.fixtures.map { URL(fileURLWithPath: $0, isDirectory: true) }
      ?? DefaultFixtures.directory
    guard !scenario.records.isEmpty else { return try FixtureLoader().load(directory: base) }
    let copy = home.appendingPathComponent("fixtures", isDirectory: true)
    try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
    var origins: [String: [Int: Int]] = [:]  // file → line in the copy → line in the scenario
    for name in FixtureLoader.fileNames {
      let source = base.appendingPathComponent(name)
      var text =
        FileManager.default.fileExists(atPath: source.path)
        ? try String(contentsOf: source, encoding: .utf8) : ""
      if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
      var line = text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
      for record in scenario.records where record.file == name {
        line += 1
        origins[name, default: [:]][line] = record.line
        text += record.json + "\n"
      }
      if !text.isEmpty {
        try text.write(to: copy.appendingPathComponent(name), atomically: true, encoding: .utf8)
      }
    }
    let loaded = Result { try FixtureLoader().load(directory: copy) }
    if case .failure(let failure) = loaded, let error = failure as? FixtureError {
      let name = URL(fileURLWithPath: error.file).lastPathComponent
      if let line = error.line, let origin = origins[name]?[line] {
        throw ScenarioError(file: scenario.file, line: origin, "world.records: \(error.message)")
      }
    }
    return try loaded.get()
  }

  var endpoint: CentralEndpoint { endpointBoxes[0].current }

  func central() throws -> CentralService {
    try CentralService.open(location, clock: clock, mutant: mutant)
  }

  /// Central's store, for the invariants' queries.
  func centralDatabase() throws -> any SQLDatabase {
    switch location {
    case .file(let path): try Connection(path: path)
    case .postgresql(let url): try PostgresDatabase(url)
    }
  }

  /// The holders' phones of this world, drawing from the world's seeded randomness.
  func holder() throws -> HolderService {
    HolderService(home: home, central: try central(), bytes: { self.bytes($0) })
  }

  func terminalPath(_ id: String) -> String {
    HomeLayout(home: home).terminalStore(id).path
  }

  func addTerminal(_ spec: TerminalSpec, index: Int, seed: UInt64) async throws {
    let box = endpointBoxes[index % endpointBoxes.count]
    let link = SimulatedLink(seed: seed &+ 100 &+ UInt64(index), clock: clock) {
      InProcessTransport(endpoint: box.current)
    }
    links[spec.id] = link
    order.append(spec.id)
    officers[spec.id] = spec.officer
    let terminalClock = TerminalClock(clock)
    terminalClocks[spec.id] = terminalClock
    identifierSeeds[spec.id] = seed &+ 1_000 &+ UInt64(index)
    var keyRandom = SeededRandom(seed: seed &+ 200 &+ UInt64(index))
    // The unit enrols the terminal: a one-time code from central, typed in at init.
    var codeRandom = SeededRandom(seed: seed &+ 300 &+ UInt64(index))
    let enrolment = try central().issueEnrolment(
      terminal: spec.id,
      random: (0..<10).map { _ in UInt8(truncatingIfNeeded: codeRandom.next()) })
    let terminal = try await Terminal.initialise(
      path: terminalPath(spec.id), terminal: spec.id, centralName: "scenario", transport: link,
      enrolmentCode: enrolment.code,
      keySeed: (0..<32).map { _ in UInt8(truncatingIfNeeded: keyRandom.next()) },
      clock: terminalClock, identifiers: SeededIdentifiers(seed: identifierSeeds[spec.id]!))
    var configured = terminal
    configured.pinIterations = ScenarioWorld.pinIterations
    configured.store.mutant = mutant
    _ = try await configured.pull(transport: link)
    try configured.logIn(officer: spec.officer)
    terminals[spec.id] = configured
  }

  func terminal(_ id: String) throws -> Terminal {
    guard let terminal = terminals[id] else {
      throw ScenarioFailure("no terminal \(id) in this world; declare it under world.terminals")
    }
    return terminal
  }

  func link(_ id: String) throws -> SimulatedLink {
    guard let link = links[id] else {
      throw ScenarioFailure("no terminal \(id) in this world; declare it under world.terminals")
    }
    return link
  }

  /// A crash: the process's memory is gone; what it committed is on disk. The terminal (or
  /// central) is opened again from its file.
  func crash(_ id: String) throws {
    if id == "central" {
      for box in endpointBoxes {
        box.replace(try CentralEndpoint(location: location, clock: clock, mutant: mutant))
      }
      bank = try BankEndpoint(path: bankPath)
      return
    }
    _ = try terminal(id)
    identifierSeeds[id]! &+= 7_919
    var reopened = try Terminal.open(
      path: terminalPath(id), terminal: id, clock: terminalClocks[id]!,
      identifiers: SeededIdentifiers(seed: identifierSeeds[id]!))
    reopened.pinIterations = ScenarioWorld.pinIterations
    reopened.store.mutant = mutant
    terminals[id] = reopened
  }

  func bytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
  }
}

extension ScenarioWorld {
  /// PBKDF2 iterations of the PINs officers choose in a simulated world (central's store
  /// is told to accept them). The world's PINs protect nothing, and hashing each at 600,000
  /// iterations would cost the simulation a quarter of a second per login; `roadside`
  /// homes always use ``OfficerRules/chosenPINIterations``.
  static let pinIterations = 1_000

  /// The PIN an officer of a simulated world chooses at first login: each digit of the
  /// police number plus 3 (never the police number, never one digit six times or a run
  /// for the fleet's numbers).
  static func chosenPIN(_ officer: String) -> String {
    String(officer.utf8.map { Character(UnicodeScalar((($0 - 48 + 3) % 10) + 48)) })
  }
}

extension Terminal {
  /// Logs `officer` in as a trained officer would: with the PIN they chose, or, where this
  /// terminal still has the initial PIN (the police number), with that and the chosen one.
  func logIn(officer: String) throws {
    let chosen = ScenarioWorld.chosenPIN(officer)
    if try mustChangePIN(officer: officer) {
      try login(officer: officer, pin: officer, newPIN: chosen)
    } else {
      try login(officer: officer, pin: chosen)
    }
  }
}

/// Central's endpoint, replaced when central "crashes" and restarts.
final class EndpointBox: Sendable {
  private let value: Mutex<CentralEndpoint>
  init(_ endpoint: CentralEndpoint) { value = Mutex(endpoint) }
  var current: CentralEndpoint { value.withLock { $0 } }
  func replace(_ endpoint: CentralEndpoint) { value.withLock { $0 = endpoint } }
}

/// A step that could not be carried out as written.
struct ScenarioFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
