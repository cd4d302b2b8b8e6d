import Foundation
import RoadsideCredentials
public import RoadsideDomain
public import RoadsideFixtures
public import RoadsideMutants
public import RoadsideProtocol
import RoadsideStorage

/// What the officer's recorder and the admin see of one licence.
public struct LicenceDossier: Sendable, Codable, Equatable {
  public struct Points: Sendable, Codable, Equatable {
    public let cycleStart: LocalDate
    public let cycleLastDay: LocalDate
    public let total: Int
    /// The entries counting in the current cycle.
    public let entries: [PointsEntry]
  }

  public let asOf: Timestamp
  public let licence: Licence
  public let permitsDriving: Bool
  public let expired: Bool
  public let points: Points
  public let vehicles: [VehicleRecord]
  /// The active bank mandate, if any.
  public let mandate: MandateRecord?
  public let decisions: [StoredDecision]
  public let epochs: [EpochRecord]
}

/// One line of a licence listing.
public struct LicenceSummary: Sendable, Codable, Equatable {
  public let number: LicenceNumber
  public let name: String
  public let classes: String
  public let status: String
  public let validUntil: LocalDate?
  public let points: Int
  public let mandate: Bool
}

extension LicenceSummary {
  enum CodingKeys: String, CodingKey {
    case number, name, classes, status, validUntil, points, mandate
  }

  /// Writes `validUntil` always (`null` for long-term).
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(number, forKey: .number)
    try c.encode(name, forKey: .name)
    try c.encode(classes, forKey: .classes)
    try c.encode(status, forKey: .status)
    try c.encode(validUntil, forKey: .validUntil)
    try c.encode(points, forKey: .points)
    try c.encode(mandate, forKey: .mandate)
  }
}

extension LicenceDossier {
  enum CodingKeys: String, CodingKey {
    case asOf, licence, permitsDriving, expired, points, vehicles, mandate, decisions, epochs
  }

  /// Writes `mandate` always (`null` when there is none).
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(asOf, forKey: .asOf)
    try c.encode(licence, forKey: .licence)
    try c.encode(permitsDriving, forKey: .permitsDriving)
    try c.encode(expired, forKey: .expired)
    try c.encode(points, forKey: .points)
    try c.encode(vehicles, forKey: .vehicles)
    try c.encode(mandate, forKey: .mandate)
    try c.encode(decisions, forKey: .decisions)
    try c.encode(epochs, forKey: .epochs)
  }
}

/// The result of an administrative change: the licence after it and the change-log
/// entries it appended, in order.
public struct AdminOutcome: Sendable, Codable, Equatable {
  public let licence: Licence
  public let changes: [Change]
}

/// The store's size and provenance.
public struct StoreSummary: Sendable, Codable, Equatable {
  public let path: String
  public let createdAt: String?
  public let fixtures: String?
  public let catalogueVersion: String?
  public let classTableVersion: String?
  public let counts: StoreCounts
}

/// The central store's operations. Every write appends, in the same transaction, one
/// change-log entry for each entity it changed, in the order it changed them.
public struct CentralService {
  /// Only the service writes to its store: every write goes through an operation named by
  /// intent, which logs its changes. (Tests that stage a crash reach it with
  /// `@testable import`.)
  let store: any CentralStore
  public let clock: any Clock
  public let catalogue: OffenceCatalogue
  /// Where the store lives (for messages).
  public let path: String
  /// A deliberate bug for the simulation to catch (`simulate --mutant`); nil everywhere
  /// else.
  public var mutant: Mutant?

  public init(
    store: any CentralStore, path: String, clock: any Clock, catalogue: OffenceCatalogue = .current
  ) {
    self.store = store
    self.path = path
    self.clock = clock
    self.catalogue = catalogue
  }

  /// Opens the store at `path`.
  public static func open(path: String, clock: any Clock) throws -> CentralService {
    try open(.file(path), clock: clock)
  }

  /// Opens the store at `location`: a SQLite file or a PostgreSQL database.
  public static func open(
    _ location: CentralStoreLocation, clock: any Clock, mutant: Mutant? = nil
  ) throws
    -> CentralService
  {
    let store: any CentralStore =
      switch location {
      case .file(let path): try SQLiteCentralStore.open(path: path)
      case .postgresql(let url): try PostgresCentralStore.open(url)
      }
    var service = CentralService(store: store, path: location.description, clock: clock)
    service.mutant = mutant
    try service.bindVerifiersIfNeeded()
    return service
  }

  /// Creates a store at `path` from `fixtures`
  /// (``initialise(_:fixtures:source:clock:catalogue:issuerKeySeed:numbersPerRange:minimumPINIterations:)``).
  public static func initialise(
    path: String, fixtures: FixtureSet, source: String, clock: any Clock,
    catalogue: OffenceCatalogue = .current, issuerKeySeed: [UInt8]? = nil,
    numbersPerRange: Int = NumberRange.standardSize,
    minimumPINIterations: Int = OfficerRules.chosenPINIterations
  ) throws -> CentralService {
    try initialise(
      .file(path), fixtures: fixtures, source: source, clock: clock, catalogue: catalogue,
      issuerKeySeed: issuerKeySeed, numbersPerRange: numbersPerRange,
      minimumPINIterations: minimumPINIterations)
  }

  /// Creates a store at `location` from `fixtures`, whole or not at all: a SQLite store is
  /// built in a temporary file beside its path and moved into place only when complete; a
  /// PostgreSQL store is created and filled in one transaction of an empty database.
  ///
  /// With `issuerKeySeed` (32 random bytes) the store starts with an active issuer key,
  /// `BJ-<year>-01`, so that e-licences can be issued at once.
  public static func initialise(
    _ location: CentralStoreLocation, fixtures: FixtureSet, source: String, clock: any Clock,
    catalogue: OffenceCatalogue = .current, issuerKeySeed: [UInt8]? = nil,
    numbersPerRange: Int = NumberRange.standardSize,
    minimumPINIterations: Int = OfficerRules.chosenPINIterations
  ) throws -> CentralService {
    guard (1...100_000).contains(numbersPerRange) else {
      throw DomainError(
        .invalidData, "numbers per range must be between 1 and 100000, not \(numbersPerRange)")
    }
    func fill(_ store: any CentralStore) throws {
      let service = CentralService(
        store: store, path: location.description, clock: clock, catalogue: catalogue)
      try service.load(fixtures, source: source)
      try store.write {
        try $0.storeCalendar(fixtures.calendar)
        try $0.append(
          NewChange(
            entity: .calendar, key: "working-days",
            payload: try CanonicalJSON.string($0.calendar())),
          at: clock.now(), action: "fixtures.load", reason: nil)
        try $0.setMeta("numbers_per_range", String(numbersPerRange))
        try $0.setMeta(Self.minimumPINIterationsMeta, String(minimumPINIterations))
      }
      if let issuerKeySeed {
        _ = try service.rotateIssuerKey(
          kid: "BJ-\(clock.now().chinaDate.year)-01", seed: issuerKeySeed, reason: "initial key")
      }
    }
    switch location {
    case .postgresql(let url):
      try PostgresCentralStore.create(url) { try fill($0) }
    case .file(let path):
      let fm = FileManager.default
      guard !fm.fileExists(atPath: path) else {
        throw CentralError(
          .alreadyExists,
          "a central store already exists at \(path); use another --home, or delete that file to start again"
        )
      }
      let directory = (path as NSString).deletingLastPathComponent
      try PrivateFiles.createDirectory(atPath: directory)
      let partial = path + ".partial"
      for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: partial + suffix) }
      do {
        // Built without a WAL or a flush per commit (a failed build is deleted), then synced
        // once the connection has closed, before it takes the store's name.
        try fill(try SQLiteCentralStore.create(path: partial, building: true))
        try PrivateFiles.synchronize(path: partial)
        try fm.moveItem(atPath: partial, toPath: path)
      } catch {
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: partial + suffix) }
        throw error
      }
    }
    return try open(location, clock: clock)
  }

  // MARK: - Loading fixtures

  func load(_ fixtures: FixtureSet, source: String) throws {
    let now = clock.now()
    let today = now.chinaDate
    let action = "fixtures.load"
    // Ledgers first: the 12-point rule may change a licence's status before it is stored.
    var decisionsByLicence: [LicenceNumber: [DecisionRecord]] = [:]
    for decision in fixtures.decisions {
      decisionsByLicence[decision.licence, default: []].append(decision)
    }
    try store.write { tx in
      try tx.setMeta("created_at", now.description)
      try tx.setMeta("fixtures", source)
      try tx.setMeta("catalogue_version", catalogue.version)
      try tx.setMeta("class_table_version", PermittedClassTable.current.version)
      for offence in catalogue.offences {
        try tx.upsert(offence, catalogueVersion: catalogue.version)
        try tx.append(
          NewChange(
            entity: .offence, key: offence.code, payload: try CanonicalJSON.string(offence)),
          at: now, action: action, reason: nil)
      }
      for officer in fixtures.officers { try tx.insert(officer) }
      for terminal in fixtures.terminals {
        try tx.insert(terminal)
        let state = try requireTerminal(terminal.id, in: tx)
        try tx.append(
          NewChange(
            entity: .terminal, key: terminal.id, payload: try CanonicalJSON.string(state),
            audience: terminal.id),
          at: now,
          action: action, reason: nil)
      }
      try logEveryOfficer(action: action, at: now, in: tx)
      // The change log's payloads are most of the work; they are encoded on every core
      // first, then inserted in order.
      var ledgers: [(LicenceNumber, PointsLedger)] = []
      var licences: [Licence] = []
      licences.reserveCapacity(fixtures.licences.count)
      for var licence in fixtures.licences {
        var ledger = PointsLedger(firstIssued: licence.firstIssued)
        for decision in decisionsByLicence[licence.number] ?? [] {
          let offence = try catalogue.require(decision.offence)
          guard offence.points > 0, !offence.fine.isWarning(decision.fineYuan) else { continue }
          let outcome = try ledger.record(
            decisionNumber: decision.number, offenceCode: offence.code, points: offence.points,
            decidedOn: decision.decidedOn, finePaid: decision.paid)
          if let marked = licence.markedPointsFull(after: outcome, today: today) {
            licence = marked
          }
        }
        _ = ledger.closeCycles(through: today)
        licences.append(licence)
        if !ledger.entries.isEmpty { ledgers.append((licence.number, ledger)) }
      }
      for (licence, payload) in zip(
        licences, try ParallelMap.map(licences) { try CanonicalJSON.string($0) })
      {
        try tx.insert(licence)
        try tx.recordEpoch(
          EpochRecord(
            epoch: licence.epoch, startedAt: Timestamp(startOf: licence.validity.validFrom),
            reason: "fixtures"),
          of: licence.number)
        try tx.append(
          NewChange(entity: .licence, key: licence.number.value, payload: payload),
          at: now, action: action, reason: nil)
      }
      let vehicles = fixtures.vehicles
      for (vehicle, payload) in zip(
        vehicles, try ParallelMap.map(vehicles) { try CanonicalJSON.string($0) })
      {
        try tx.insert(vehicle)
        try tx.append(
          NewChange(entity: .vehicle, key: vehicle.plate.value, payload: payload),
          at: now, action: action, reason: nil)
      }
      let mandates = fixtures.mandates
      let notices = try ParallelMap.map(mandates) { try CanonicalJSON.string(MandateNotice($0)) }
      for (mandate, payload) in zip(mandates, notices) {
        try tx.insert(mandate)
        try tx.append(
          NewChange(entity: .mandate, key: mandate.licence.value, payload: payload),
          at: now, action: action, reason: nil)
      }
      var decisions: [StoredDecision] = []
      decisions.reserveCapacity(fixtures.decisions.count)
      for decision in fixtures.decisions {
        let offence = try catalogue.require(decision.offence)
        let isWarning = offence.fine.isWarning(decision.fineYuan)
        decisions.append(
          StoredDecision(
            number: decision.number, licence: decision.licence, plate: decision.plate?.value,
            offence: offence.code, decidedOn: decision.decidedOn,
            fine: Money(yuan: decision.fineYuan),
            points: isWarning ? 0 : offence.points, paid: decision.paid, place: decision.place,
            state: .effective))
      }
      for (stored, payload) in zip(
        decisions, try ParallelMap.map(decisions) { try CanonicalJSON.string($0) })
      {
        try tx.insert(stored)
        try tx.append(
          NewChange(entity: .decision, key: stored.number, payload: payload),
          at: now, action: action, reason: nil)
      }
      let ledgerPayloads = try ParallelMap.map(ledgers.map(\.1)) { try CanonicalJSON.string($0) }
      for ((number, ledger), payload) in zip(ledgers, ledgerPayloads) {
        try tx.save(ledger, for: number)
        try tx.append(
          NewChange(entity: .points, key: number.value, payload: payload), at: now,
          action: action, reason: nil)
      }
    }
  }

  // MARK: - Reads

  func requireLicence(_ number: LicenceNumber, in tx: any CentralReading) throws -> Licence {
    guard let licence = try tx.licence(number) else {
      throw CentralError(
        .notFound,
        "no licence \(number.masked) in the central store; check the number, or list them with 'roadside central licence list'"
      )
    }
    return licence
  }

  public func dossier(_ number: LicenceNumber) throws -> LicenceDossier {
    try closeDueCycles(number)
    let now = clock.now()
    let today = now.chinaDate
    return try store.read { tx in
      let licence = try requireLicence(number, in: tx)
      let ledger = try currentLedger(licence, on: today, in: tx)
      let cycle = ledger.cycle(on: today)
      return LicenceDossier(
        asOf: now, licence: licence, permitsDriving: licence.permitsDriving(on: today),
        expired: licence.isExpired(on: today),
        points: .init(
          cycleStart: cycle.start, cycleLastDay: cycle.lastDay, total: ledger.total(on: today),
          entries: ledger.entries.filter { $0.isLive && $0.countsInCycle == cycle.start }),
        vehicles: try tx.vehicles(ownedBy: number),
        mandate: try tx.mandates(for: number).last { $0.isActive },
        decisions: try tx.decisions(for: number), epochs: try tx.epochs(of: number))
    }
  }

  /// The licences of `filter` as stored, without their points and mandates: what a bulk
  /// job (provisioning a world's phones) reads in one query instead of a dossier each.
  public func licenceRecords(_ filter: LicenceFilter) throws -> [Licence] {
    try store.read { try $0.licences(filter) }
  }

  public func licences(_ filter: LicenceFilter) throws -> [LicenceSummary] {
    let today = clock.now().chinaDate
    return try store.read { tx in
      try tx.licences(filter).map { licence in
        let ledger = try currentLedger(licence, on: today, in: tx)
        return LicenceSummary(
          number: licence.number, name: licence.name, classes: licence.classes.code,
          status: licence.status.code, validUntil: licence.validity.validUntil,
          points: ledger.total(on: today),
          mandate: try tx.mandates(for: licence.number).contains { $0.isActive })
      }
    }
  }

  /// Every change after `seq` (the administrator's view).
  public func changes(after seq: Int64, limit: Int) throws -> [Change] {
    try store.read { try $0.changes(after: seq, limit: limit, for: nil) }
  }

  /// What `terminal` may pull after `seq`: the entries for every terminal and those for it
  /// alone, with the newest sequence number read in the same transaction (a terminal whose
  /// page is not full has seen everything meant for it up to that number).
  public func changes(for terminal: String, after seq: Int64, limit: Int) throws -> (
    changes: [Change], latest: Int64
  ) {
    try store.read { tx in
      let latest = try tx.latestSequence()
      return (try tx.changes(after: seq, limit: limit, for: terminal), latest)
    }
  }

  public func offences() throws -> [Offence] { try store.read { try $0.offences() } }
  public func officers() throws -> [OfficerState] { try store.read { try $0.officers() } }
  public func terminals() throws -> [TerminalState] { try store.read { try $0.terminals() } }

  public func vehicle(_ plate: Plate) throws -> VehicleRecord {
    guard let vehicle = try store.read({ try $0.vehicle(plate: plate) }) else {
      throw CentralError(.notFound, "no vehicle with plate \(plate) in the central store")
    }
    return vehicle
  }

  public func summary() throws -> StoreSummary {
    try store.read { tx in
      StoreSummary(
        path: path, createdAt: try tx.meta("created_at"), fixtures: try tx.meta("fixtures"),
        catalogueVersion: try tx.meta("catalogue_version"),
        classTableVersion: try tx.meta("class_table_version"), counts: try tx.counts())
    }
  }

  // MARK: - Administrative changes

  /// Loads a licence, lets `change` compute its new state (and any other writes), stores
  /// it, and appends the licence's change and then the others `change` returns.
  private func changeLicence(
    _ number: LicenceNumber, action: String, reason: String?,
    _ change: (Licence, any CentralWriting, Timestamp) throws -> (Licence, [NewChange])
  ) throws -> AdminOutcome {
    let now = clock.now()
    return try store.write { tx in
      // On PostgreSQL the licence row is locked before it is read, as a push locks it: two
      // nodes changing one licence at once take turns instead of one losing its change.
      try tx.lock(licences: [number.value])
      let before = try requireLicence(number, in: tx)
      let first = try tx.latestSequence()
      let (after, extra) = try change(before, tx, now)
      if after != before {
        try tx.update(after)
        let unlogged =
          mutant == .changeNotLogged
          && ["licence.suspend", "licence.reinstate"].contains(action)
        if !unlogged {
          try tx.append(
            NewChange(
              entity: .licence, key: number.value, payload: try CanonicalJSON.string(after)),
            at: now,
            action: action, reason: reason)
        }
      }
      for entry in extra { try tx.append(entry, at: now, action: action, reason: reason) }
      return AdminOutcome(
        licence: after, changes: try tx.changes(after: first, limit: Int.max, for: nil))
    }
  }

  public func suspend(_ number: LicenceNumber, until: LocalDate?, reason: String?) throws
    -> AdminOutcome
  {
    if let until, until < clock.now().chinaDate {
      throw DomainError(
        .invalidData, "--until \(until) is in the past; give the last day of the suspension")
    }
    return try changeLicence(number, action: "licence.suspend", reason: reason) { licence, _, _ in
      (try licence.suspending(until: until), [])
    }
  }

  public func withhold(_ number: LicenceNumber, reason: String?) throws -> AdminOutcome {
    try changeLicence(number, action: "licence.withhold", reason: reason) { licence, _, _ in
      (try licence.withholding(), [])
    }
  }

  public func reinstate(_ number: LicenceNumber, reason: String?) throws -> AdminOutcome {
    try changeLicence(number, action: "licence.reinstate", reason: reason) { licence, _, _ in
      (try licence.reinstating(), [])
    }
  }

  public func revoke(_ number: LicenceNumber, reason: String?) throws -> AdminOutcome {
    try changeLicence(number, action: "licence.revoke", reason: reason) { licence, _, _ in
      (try licence.revoking(), [])
    }
  }

  /// Renews the licence (换证): the next validity term of 公安部令第162号 §62 and a new
  /// e-licence epoch. "Full score in the term" is read from the points ledger: any
  /// scoring cycle overlapping the ending term whose live or cleared points reached 12.
  /// A licence more than one year past expiry is not renewed: it is cancelled (注销, status
  /// G, 162号 §79(八)) and the outcome's licence says so; driving resumes only after the exam.
  public func renew(_ number: LicenceNumber, reason: String?) throws -> AdminOutcome {
    try changeLicence(number, action: "licence.renew", reason: reason) { licence, tx, now in
      if licence.isPastRenewal(on: now.chinaDate), !licence.status.isTerminal {
        return (licence.cancelling(), [])
      }
      let ledger = try currentLedger(licence, at: now, in: tx)
      var perCycle: [LocalDate: Int] = [:]
      for entry in ledger.entries where !entry.revoked {
        let cycle = ledger.cycle(on: entry.decidedOn)
        if cycle.end > licence.validity.validFrom,
          licence.validity.validUntil.map({ cycle.start <= $0 }) ?? true
        {
          perCycle[cycle.start, default: 0] += entry.points
        }
      }
      let renewed = try licence.renewing(
        on: now.chinaDate,
        fullScoreInTerm: perCycle.values.contains { $0 >= PointsLedger.fullScore })
      try tx.recordEpoch(
        EpochRecord(epoch: renewed.epoch, startedAt: now, reason: "renewal"), of: number)
      return (renewed, [])
    }
  }

  public func changeClasses(_ number: LicenceNumber, to classes: [LicenceClass], reason: String?)
    throws
    -> AdminOutcome
  {
    try changeLicence(number, action: "licence.change-class", reason: reason) { licence, tx, now in
      let changed = try licence.changingClasses(to: classes)
      try tx.recordEpoch(
        EpochRecord(
          epoch: changed.epoch, startedAt: now, reason: "class change to \(changed.classes.code)"),
        of: number)
      return (changed, [])
    }
  }

  /// Takes points off by study (公安部令第163号 §25–§27), refused with the article when the
  /// law does not accept the application (``StudyReduction/refusal(licence:ledger:decisions:fullScoreEducations:on:)``).
  public func reducePoints(_ number: LicenceNumber, points: Int, reason: String?) throws
    -> AdminOutcome
  {
    try changeLicence(number, action: "points.reduce", reason: reason) { licence, tx, now in
      var ledger = try currentLedger(licence, at: now, in: tx)
      if let refusal = StudyReduction.refusal(
        licence: licence, ledger: ledger,
        decisions: try tx.decisions(for: number).filter { $0.state == .effective }.map {
          (offence: $0.offence, decidedOn: $0.decidedOn)
        },
        fullScoreEducations: try tx.educations(of: number).filter { $0.exam == .passed }.map(
          \.completedOn),
        on: now.chinaDate)
      {
        throw DomainError(.notPermitted, refusal)
      }
      _ = try ledger.reduceByStudy(points: points, on: now.chinaDate)
      try tx.save(ledger, for: number)
      return (
        licence,
        [NewChange(entity: .points, key: number.value, payload: try CanonicalJSON.string(ledger))]
      )
    }
  }
}

// MARK: - Terminals

extension CentralService {
  func requireTerminal(_ id: String, in tx: any CentralReading) throws -> TerminalState {
    guard let terminal = try tx.terminal(id) else {
      throw CentralError(
        .notFound,
        "central does not know terminal \(id); add it with 'roadside central terminal add --id \(id) --unit …'"
      )
    }
    return terminal
  }

  public func terminal(_ id: String) throws -> TerminalState {
    try store.read { try requireTerminal(id, in: $0) }
  }

  /// Adds a terminal to the fleet (before it registers its key).
  public func addTerminal(id: String, unit: String, reason: String?) throws -> TerminalState {
    try TerminalRecord.validate(id: id)
    let now = clock.now()
    return try store.write { tx in
      if try tx.terminal(id) != nil {
        throw CentralError(.refused(.terminalExists), "terminal \(id) already exists")
      }
      try tx.insert(TerminalRecord(id: id, unit: unit))
      let state = try requireTerminal(id, in: tx)
      try tx.append(
        NewChange(
          entity: .terminal, key: id, payload: try CanonicalJSON.string(state), audience: id),
        at: now,
        action: "terminal.add", reason: reason)
      for officer in try tx.officers() where officer.unit == unit {
        try log(officer, to: [state], action: "terminal.add", reason: reason, at: now, in: tx)
      }
      return state
    }
  }

  /// Reports a terminal lost: every later upload from it is refused.
  public func revokeTerminal(id: String, reason: String?) throws -> TerminalState {
    let now = clock.now()
    return try store.write { tx in
      var terminal = try requireTerminal(id, in: tx)
      if terminal.status == .revoked {
        throw CentralError(.refused(.terminalRevoked), "terminal \(id) is already revoked")
      }
      terminal.status = .revoked
      terminal.revokedAt = now
      try tx.update(terminal)
      try tx.append(
        NewChange(
          entity: .terminal, key: id, payload: try CanonicalJSON.string(terminal), audience: id),
        at: now,
        action: "terminal.revoke", reason: reason)
      return terminal
    }
  }

  /// The newest change-log sequence number.
  public func latestSequence() throws -> Int64 { try store.read { try $0.latestSequence() } }
}

extension MandateNotice {
  /// What terminals learn of `mandate`.
  public init(_ mandate: MandateRecord) {
    self.init(
      licence: mandate.licence, bank: mandate.bank, accountTail: String(mandate.account.suffix(4)),
      authorisedOn: mandate.authorisedOn, revokedOn: mandate.revokedOn)
  }
}
