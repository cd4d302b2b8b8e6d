import Crypto
import Foundation
import RoadsideCredentials
public import RoadsideDomain
public import RoadsideProtocol
import RoadsideStorage

/// What the officer's recorder shows for a licence.
public struct LookupResult: Sendable, Codable, Equatable {
  public struct Points: Sendable, Codable, Equatable {
    public let cycleStart: LocalDate
    public let cycleLastDay: LocalDate
    /// Central's ledger plus ``provisional``.
    public let total: Int
    /// Points of this terminal's own decisions central has not yet put into the ledger.
    public let provisional: Int
  }

  public let terminal: String
  public let officer: String
  public let at: Timestamp
  public let number: LicenceNumber
  /// Whether the licence is in the cache. When not, nothing below is known.
  public let found: Bool
  public let licence: CachedLicence?
  public let permitsDriving: Bool?
  public let expired: Bool?
  public let points: Points?
  /// Decisions not yet paid (罚款未缴).
  public let unpaidDecisions: [CachedDecision]
  /// Violations recorded but not yet decided (违法未处理), from any terminal.
  public let pendingViolations: [ViolationRecord]
  public let vehicles: [String]
  /// The last successful sync, and how old the cache is, on every answer.
  public let lastSync: Timestamp?
  public let cacheAgeSeconds: Int64?
  /// Older than the staleness budget (24 h): status-dependent conclusions are undetermined.
  public let cacheStale: Bool
  /// What the officer must do (withhold the paper licence, classes too old to drive), each
  /// with its article (``CheckInstructions``).
  public var instructions: [String] = []
}

/// A terminal's status report.
public struct TerminalStatusReport: Sendable, Codable, Equatable {
  public let terminal: String
  public let unit: String
  public let central: String
  public let cursor: Int64
  public let centralLatest: Int64
  public let lastSuccessAt: Timestamp?
  public let lastAttemptAt: Timestamp?
  public let lastError: String?
  public let cacheAgeSeconds: Int64?
  public let cacheStale: Bool
  public let outboxDepth: Int
  public let openConflicts: Int
  public let officer: String?
  public let revoked: Bool
  public let cached: [String: Int]
}

/// What one push did.
public struct PushReport: Sendable, Equatable, Codable {
  public var batches = 0
  public var accepted = 0
  public var duplicates = 0
  public var rejected = 0
  public var conflicts = 0

  public init() {}

  mutating func count(_ ack: RecordAcknowledgement) {
    switch ack.outcome {
    case .accepted: accepted += 1
    case .duplicate: duplicates += 1
    case .rejected: rejected += 1
    case .conflict: conflicts += 1
    }
  }
}

/// What one pull did.
public struct PullReport: Sendable, Equatable, Codable {
  public let batches: Int
  public let changes: Int
  public let cursor: Int64
  public let latest: Int64
}

/// One officer terminal: its store plus the clock and id source it runs with.
public struct Terminal {
  public let store: TerminalStore
  public let clock: any Clock
  public let identifiers: any IdentifierSource
  /// PBKDF2 iterations of a PIN chosen here: ``OfficerRules/chosenPINIterations``, except in
  /// simulated worlds whose central was told to accept fewer (their PINs protect nothing).
  public var pinIterations: Int = OfficerRules.chosenPINIterations

  /// Inactivity that ends a session (30 minutes).
  public static let sessionTimeoutSeconds: Int64 = OfficerRules.sessionTimeoutSeconds
  /// Wrong PINs before the officer is locked out on this terminal.
  public static let maximumPINFailures = OfficerRules.maximumPINFailures
  /// A cache older than this cannot support a status-dependent verdict (DESIGN §4).
  public static let stalenessBudgetSeconds = Verdict.defaultStalenessBudgetSeconds

  public init(store: TerminalStore, clock: any Clock, identifiers: any IdentifierSource) {
    self.store = store
    self.clock = clock
    self.identifiers = identifiers
  }

  /// The longest prefix of `records` whose batch stays under central's body limit: each
  /// record's payload is a JSON string inside the JSON batch, so escaping can double it; a
  /// fixed allowance covers the fields around it. The first record always goes (a record
  /// is bounded when it is made), so a batch never comes out empty.
  static func withinBodyLimit(_ records: [PushRecord]) -> [PushRecord] {
    let budget = ProtocolV1.maximumBodyBytes - 64 * 1024
    var used = 0
    var count = 0
    for record in records {
      used += 2 * record.payload.utf8.count + 512
      if used > budget, count > 0 { break }
      count += 1
    }
    return Array(records.prefix(count))
  }

  /// The signer of this terminal's requests to central: its key, its clock.
  public func requestSigner() throws -> RequestSigner {
    let identity = try store.identity()
    return RequestSigner(terminal: identity.terminal, privateKey: identity.privateKey, clock: clock)
  }

  /// Creates a terminal: generates its Ed25519 key pair from `keySeed` (32 random bytes
  /// from the caller: system entropy in the CLI, a seed in scenarios), binds the public key
  /// at central with the one-time `enrolmentCode` (a request signed by that key), and only
  /// then creates the terminal's file.
  ///
  /// The file is first written beside its final path and moved into place after central
  /// accepted the key. A failed or interrupted registration leaves only that partial file
  /// (0600, with the key), so that a retry resumes with the same key, which central accepts
  /// again with the same code.
  public static func initialise(
    path: String, terminal: String, centralName: String, transport: any CentralTransport,
    enrolmentCode: String, keySeed: [UInt8], clock: any Clock, identifiers: any IdentifierSource
  ) async throws -> Terminal {
    let fm = FileManager.default
    guard !fm.fileExists(atPath: path) else {
      throw TerminalError(
        .alreadyExists,
        "terminal \(terminal) already exists in this home (\(path)); use it, or another --home")
    }
    let partial = path + ".partial"
    var privateKey: SigningKey
    if fm.fileExists(atPath: partial),
      let earlier = try? TerminalStore.open(path: partial, terminal: terminal).identity(),
      earlier.terminal == terminal
    {
      privateKey = try SigningKey(seed: earlier.privateKey)
    } else {
      for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: partial + suffix) }
      privateKey = try SigningKey(seed: keySeed)
      let identity = TerminalIdentity(
        terminal: terminal, unit: "", central: centralName, privateKey: privateKey.seed,
        publicKey: privateKey.publicKey, createdAt: clock.now())
      _ = try TerminalStore.create(path: partial, identity: identity)
    }
    let answer = try await transport.register(
      RegisterRequest(
        terminal: terminal, publicKey: Data(privateKey.publicKey).base64EncodedString(),
        enrolmentCode: enrolmentCode),
      signer: RequestSigner(
        terminal: terminal, privateKey: privateKey.seed, clock: clock))
    do {
      let store = try TerminalStore.open(path: partial, terminal: terminal)
      try store.setUnit(answer.unit)
    }
    try fm.moveItem(atPath: partial, toPath: path)
    return Terminal(
      store: try TerminalStore.open(path: path, terminal: terminal), clock: clock,
      identifiers: identifiers)
  }

  public static func open(
    path: String, terminal: String, clock: any Clock, identifiers: any IdentifierSource
  ) throws -> Terminal {
    Terminal(
      store: try TerminalStore.open(path: path, terminal: terminal), clock: clock,
      identifiers: identifiers)
  }

  // MARK: - Pull

  /// Pulls every change after the cursor, batch by batch; each batch and its cursor are
  /// applied in one transaction. `progress` gets (cursor, latest) after each batch.
  public func pull(
    transport: any CentralTransport, batchSize: Int = 1_000,
    progress: (Int64, Int64) -> Void = { _, _ in }
  ) async throws -> PullReport {
    let terminal = try store.identity().terminal
    let signer = try requestSigner()
    var batches = 0
    var changes = 0
    while true {
      let cursor = try store.syncState().cursor
      let batch: ChangesResponse
      do {
        batch = try await transport.changes(
          terminal: terminal, after: cursor, limit: batchSize, signer: signer)
      } catch {
        try store.recordSyncFailure("\(error)", at: clock.now())
        throw error
      }
      try store.apply(batch, at: clock.now())
      batches += 1
      changes += batch.changes.count
      let state = try store.syncState()
      progress(state.cursor, state.centralLatest)
      if !batch.hasMore || batch.changes.isEmpty {
        return PullReport(
          batches: batches, changes: changes, cursor: state.cursor, latest: state.centralLatest)
      }
    }
  }

  // MARK: - Push

  /// Pushes every pending outbox record, batch by batch, each batch signed with the
  /// terminal's key. Each acknowledgement and any conflict are stored in one transaction
  /// per batch. A record stays pending until central acknowledged it; nothing is dropped.
  ///
  /// A failed batch is retried up to `attempts` times, waiting 0.2 s, 0.4 s, 0.8 s, … (at
  /// most 5 s) through `sleep`; then the error is thrown and the records stay pending.
  public func push(
    transport: any CentralTransport, batchSize: Int = 500, attempts: Int = 5,
    sleep: (Double) async -> Void = { seconds in try? await Task.sleep(for: .seconds(seconds)) }
  ) async throws -> PushReport {
    let identity = try store.identity()
    let key = try SigningKey(seed: identity.privateKey)
    let signer = try requestSigner()
    var report = PushReport()
    while true {
      let pending = Self.withinBodyLimit(try store.pendingRecords(limit: batchSize))
      if pending.isEmpty { return report }
      let batch = try PushBatch(
        terminal: identity.terminal, batchID: identifiers.nextUUID(), sentAt: clock.now(),
        records: pending
      ).signed(by: key)
      var response: PushResponse?
      var delay = 0.2
      for attempt in 1...max(1, attempts) {
        do {
          response = try await transport.push(batch, signer: signer)
          break
        } catch let error as APIError {
          try store.recordSyncFailure("push: \(error)", at: clock.now())
          throw error
        } catch {
          try store.recordSyncFailure("push: \(error)", at: clock.now())
          if attempt == max(1, attempts) { throw error }
          await sleep(delay)
          delay = min(delay * 2, 5)
        }
      }
      guard let response else { return report }
      let sent = Set(pending.map(\.recordID))
      let answered = Set(response.acknowledgements.map(\.recordID))
      guard answered == sent else {
        throw TerminalError(
          .protocolViolation,
          "central acknowledged records that were not in the batch, or left some out")
      }
      try store.transaction {
        for ack in response.acknowledgements {
          // A duplicate's record ends in the state its first acknowledgement gave it.
          let state = ack.outcome == .duplicate ? ack.first?.outcome : ack.outcome
          guard let state, state != .duplicate else {
            throw TerminalError(
              .protocolViolation,
              "central acknowledged record \(ack.recordID) with an unknown outcome")
          }
          try store.acknowledge(
            recordID: ack.recordID, state: state, acknowledgement: try CanonicalJSON.string(ack))
          try store.acknowledgedPINChange(recordID: ack.recordID)
          if let conflict = ack.conflict ?? ack.first?.conflict {
            try store.storeConflict(conflict, body: try CanonicalJSON.string(conflict))
          }
          report.count(ack)
        }
      }
      report.batches += 1
    }
  }

  /// The terminal's Ed25519 signature of `batch`, base64.
  public func sign(_ batch: PushBatch) throws -> String {
    try batch.signed(by: SigningKey(seed: store.identity().privateKey)).signature
  }

  // MARK: - Recording violations

  /// Records a violation observed at the roadside (offline): the record and its outbox
  /// entry, and the audit entry, in one transaction. Requires a logged-in officer.
  @discardableResult
  public func recordViolation(
    licence number: LicenceNumber, plate: Plate, offenceCode: String, place: String
  ) throws -> (recordID: String, violation: ViolationRecord) {
    let now = clock.now()
    return try store.transaction {
      let officer = try requireSession(at: now)
      let offence = try cachedOffence(offenceCode)
      let violation = ViolationRecord(
        licence: number.value, plate: plate.value, offence: offence.code, points: offence.points,
        at: now,
        officer: officer, place: place)
      let id = try appendOutbox(kind: .violation, violation, at: now)
      try appendAudit(
        officer: officer, action: "record", subject: number.value,
        result: "violation \(offence.code) \(plate.value)",
        at: now)
      return (id, violation)
    }
  }

  // MARK: - Officer sessions

  /// What a login on this terminal needs for `officer`: whether the PIN in force is initial
  /// (a new one must be chosen), as the terminal's cache says.
  public func mustChangePIN(officer: String) throws -> Bool {
    try store.mustChangePIN(officer: officer)
  }

  /// Logs an officer in with their PIN, checked offline against the verifier central bound
  /// to this terminal. Five wrong PINs lock the officer on this terminal until central
  /// unlocks them; central locks them on every terminal after 5 in a row across the fleet.
  /// An initial PIN (the fixtures', or one central set) must be replaced by `newPIN`, hashed
  /// here with ``pinIterations`` and sent to central as a `pin_change` record. Every attempt
  /// is written to the audit log, which central re-reads to check every record's officer.
  public func login(officer: String, pin: String, newPIN: String? = nil) throws {
    let now = clock.now()
    let terminalID = try store.identity().terminal
    let outcome: Result<Void, TerminalError> = try store.transaction {
      func refuse(_ result: String, _ kind: TerminalError.Kind, _ message: String) throws
        -> Result<Void, TerminalError>
      {
        try appendAudit(
          officer: officer, action: "login", subject: officer, result: result, at: now)
        return .failure(TerminalError(kind, message))
      }
      guard let known = try store.officerLogin(officer) else {
        return try refuse(
          "unknown-officer", .notAuthorised,
          "officer \(officer) is not known to this terminal; sync it with central first")
      }
      let (verifierText, generation, mustChange, lockedAt, lockedOn, version) = (
        known.verifier, known.unlockGeneration, known.mustChangePIN, known.lockedAt,
        known.lockedOn, known.pinVersion
      )
      let failures = try store.wrongPINs(officer: officer, since: generation)
      if failures >= Terminal.maximumPINFailures {
        return try refuse(
          "locked", .notAuthorised,
          "officer \(officer) is locked on this terminal after \(Terminal.maximumPINFailures) wrong PINs; central must unlock them ('roadside central officer unlock \(officer)') and the terminal sync"
        )
      }
      if let lockedAt {
        return try refuse(
          "locked", .notAuthorised,
          "officer \(officer) is locked at central since \(lockedAt) after \(Terminal.maximumPINFailures) wrong PINs in a row (the last on \(lockedOn ?? "a terminal")); central must unlock them ('roadside central officer unlock \(officer)') and the terminal sync"
        )
      }
      guard let verifierText, let verifier = try? TerminalPINVerifier(encoded: verifierText)
      else {
        return try refuse(
          "no-pin", .notAuthorised,
          "officer \(officer) has no PIN set for this terminal; central must set one ('roadside central officer set-pin \(officer)') and the terminal sync"
        )
      }
      guard let derived = verifier.derivedHash(of: pin, terminal: terminalID) else {
        try store.countWrongPIN(officer: officer, generation: generation)
        let left = Terminal.maximumPINFailures - failures - 1
        return try refuse(
          "wrong-pin", .notAuthorised,
          left > 0
            ? "wrong PIN for officer \(officer); \(left) attempt\(left == 1 ? "" : "s") left before the officer is locked on this terminal"
            : "wrong PIN for officer \(officer); the officer is now locked on this terminal until central unlocks them"
        )
      }
      var chosen: PINHash?
      if mustChange {
        guard let newPIN else {
          return try refuse(
            "pin-change-required", .pinChangeRequired,
            "officer \(officer) must choose a new PIN at first login: the initial PIN is the police number or one central set"
          )
        }
        do {
          try PINHash.validateNew(pin: newPIN, officer: officer)
          if newPIN == pin { throw PINError.weak("the new PIN must differ from the initial one") }
          chosen = try PINHash(pin: newPIN, salt: saltBytes(), iterations: pinIterations)
        } catch let error as PINError {
          return .failure(TerminalError(.badInput, "\(error.description); choose another"))
        }
      }
      try store.startSession(officer: officer, at: now)
      // The entry proves the PIN to central, which keeps the key this proof needs.
      try appendAudit(officer: officer, action: "login", subject: officer, result: "ok", at: now) {
        LoginProof.make(
          hash: derived, terminal: terminalID, officer: officer, seq: $0, at: now.description,
          version: version)
      }
      if let chosen {
        try store.setChosenPIN(
          officer: officer, verifier: chosen.bound(to: terminalID).encoded, at: now)
        try appendAudit(
          officer: officer, action: "pin-change", subject: officer, result: "ok", at: now)
        try appendOutbox(
          kind: .pinChange,
          PINChangeRecord(officer: officer, at: now, pinHash: chosen.encoded), at: now)
      }
      return .success(())
    }
    try outcome.get()
  }

  /// 16 bytes for a PIN salt, from the terminal's id source (system randomness in the CLI,
  /// a seed in simulated worlds).
  private func saltBytes() -> [UInt8] {
    Array(SHA256.hash(data: Data(identifiers.nextUUID().utf8)).prefix(16))
  }

  public func logout() throws {
    let now = clock.now()
    try store.transaction {
      if let officer = try currentOfficer() {
        try appendAudit(officer: officer, action: "logout", subject: officer, result: "ok", at: now)
      }
      try store.endSession()
    }
  }

  /// The logged-in officer, whatever the session's age.
  public func currentOfficer() throws -> String? {
    try store.session()?.officer
  }

  /// The officer of a session that has not expired, without marking activity.
  func liveSessionOfficer(at now: Timestamp) throws -> String? {
    guard let (officer, last) = try store.session() else { return nil }
    return now.secondsSinceEpoch - last.secondsSinceEpoch > Terminal.sessionTimeoutSeconds
      ? nil : officer
  }

  /// The officer of a live session, marking activity; refuses when there is none or it
  /// expired (30 minutes without activity, by the injected clock).
  func requireSession(at now: Timestamp) throws -> String {
    guard let (officer, last) = try store.session() else {
      throw TerminalError(
        .notAuthorised,
        "no officer is logged in on this terminal; run 'roadside login --terminal … --officer …'")
    }
    if now.secondsSinceEpoch - last.secondsSinceEpoch > Terminal.sessionTimeoutSeconds {
      try store.endSession()
      throw TerminalError(
        .notAuthorised,
        "the session of officer \(officer) expired after \(Terminal.sessionTimeoutSeconds / 60) minutes without activity; log in again"
      )
    }
    try store.touchSession(at: now)
    return officer
  }

  // MARK: - Lookup

  /// Looks a licence up in the cache, as the officer's recorder shows it. Requires a
  /// logged-in officer; writes the lookup to the audit log (and its outbox entry) in the
  /// same transaction.
  public func lookup(_ number: LicenceNumber) throws -> LookupResult {
    let now = clock.now()
    let today = now.chinaDate
    return try store.transaction {
      let officer = try requireSession(at: now)
      let identity = try store.identity()
      let sync = try store.syncState()
      let age = sync.lastSuccessAt.map { now.secondsSinceEpoch - $0.secondsSinceEpoch }
      let stale = age.map { $0 > Terminal.stalenessBudgetSeconds } ?? true
      let result: LookupResult
      if let licence = try store.licence(number) {
        let ledger = try store.pointsLedger(number, firstIssued: licence.firstIssued, asOf: today)
        let cycle = ledger.cycle(on: today)
        let total = try pointsNow(number, firstIssued: licence.firstIssued, today: today)
        result = LookupResult(
          terminal: identity.terminal, officer: officer, at: now, number: number, found: true,
          licence: licence,
          permitsDriving: licence.status.permitsDriving && !licence.validity.isExpired(on: today),
          expired: licence.validity.isExpired(on: today),
          points: .init(
            cycleStart: cycle.start, cycleLastDay: cycle.lastDay,
            total: total, provisional: total - ledger.total(on: today)),
          unpaidDecisions: try store.decisions(number).filter {
            !$0.paid && $0.state == .effective && $0.fine > .zero
          },
          pendingViolations: try store.pendingViolations(number),
          vehicles: try store.vehiclePlates(ownedBy: number), lastSync: sync.lastSuccessAt,
          cacheAgeSeconds: age, cacheStale: stale,
          instructions: CheckInstructions.instructions(
            status: licence.status, points: total, classes: licence.classes,
            birthDate: licence.birthDate, on: today))
      } else {
        result = LookupResult(
          terminal: identity.terminal, officer: officer, at: now, number: number, found: false,
          licence: nil, permitsDriving: nil, expired: nil, points: nil, unpaidDecisions: [],
          pendingViolations: try store.pendingViolations(number), vehicles: [],
          lastSync: sync.lastSuccessAt, cacheAgeSeconds: age, cacheStale: stale)
      }
      try appendOutbox(
        kind: .check,
        CheckRecord(
          licence: number.value, at: now, officer: officer, found: result.found,
          statusSeen: result.licence?.status.code, epochSeen: result.licence?.epoch,
          cursor: sync.cursor),
        at: now)
      let summary =
        result.found
        ? "found status=\(result.licence!.status.code) points=\(result.points!.total)\(stale ? " stale" : "")"
        : "not-in-cache"
      try appendAudit(
        officer: officer, action: "lookup", subject: number.value, result: summary, at: now)
      return result
    }
  }

  // MARK: - Audit log

  /// Appends an audit entry and its outbox record. Call inside a transaction.
  func appendAudit(
    officer: String, action: String, subject: String, result: String, at now: Timestamp,
    proof: ((Int64) throws -> String)? = nil
  ) throws {
    let entry = try AuditEntry.next(
      after: try store.lastAuditEntry(), terminal: try store.identity().terminal, at: now,
      officer: officer, action: action, subject: subject, result: result, proof: proof)
    try store.insert(entry)
    try appendOutbox(kind: .audit, entry, at: now)
  }

  /// Writes a record into the outbox with the next terminal sequence number and a fresh
  /// record id. Call inside the transaction that writes what the record is about.
  @discardableResult
  func appendOutbox(kind: RecordKind, _ value: some Encodable, at now: Timestamp) throws -> String {
    let payload = try CanonicalJSON.string(value)
    let id = identifiers.nextUUID()
    try store.appendOutbox(id: id, kind: kind, payload: payload, at: now)
    return id
  }

  /// The whole audit log, oldest first.
  public func auditLog() throws -> [AuditEntry] {
    try store.auditEntries()
  }

  // MARK: - Status

  public func status() throws -> TerminalStatusReport {
    let now = clock.now()
    let identity = try store.identity()
    let sync = try store.syncState()
    let age = sync.lastSuccessAt.map { now.secondsSinceEpoch - $0.secondsSinceEpoch }
    return TerminalStatusReport(
      terminal: identity.terminal, unit: identity.unit, central: identity.central,
      cursor: sync.cursor,
      centralLatest: sync.centralLatest, lastSuccessAt: sync.lastSuccessAt,
      lastAttemptAt: sync.lastAttemptAt,
      lastError: sync.lastError, cacheAgeSeconds: age,
      cacheStale: age.map { $0 > Terminal.stalenessBudgetSeconds } ?? true,
      outboxDepth: try store.outboxDepth(), openConflicts: try store.openConflicts(),
      officer: try liveSessionOfficer(at: now),
      revoked: try store.terminalStatus(identity.terminal) == .revoked, cached: try store.counts())
  }
}
