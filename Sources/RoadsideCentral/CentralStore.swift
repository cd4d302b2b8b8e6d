public import RoadsideCredentials
public import RoadsideDomain
public import RoadsideFixtures
public import RoadsideProtocol

/// One entry of the change log: the entity's full state after the change, so that
/// applying entries in sequence order is idempotent and needs nothing else.
public struct Change: Sendable, Hashable, Codable {
  /// Monotonic and never reused.
  public let seq: Int64
  public let at: Timestamp
  public let entity: ChangeEntity
  public let key: String
  public let op: ChangeOperation
  /// The administrative action that made the change (`licence.suspend`, `fixtures.load`).
  public let action: String
  public let reason: String?
  /// The entity's JSON after the change (for `delete`, the last state).
  public let payload: String
  /// The one terminal the entry is for, or nil for every terminal.
  public let audience: String?

  public init(
    seq: Int64, at: Timestamp, entity: ChangeEntity, key: String, op: ChangeOperation,
    action: String,
    reason: String?, payload: String, audience: String? = nil
  ) {
    self.audience = audience
    self.seq = seq
    self.at = at
    self.entity = entity
    self.key = key
    self.op = op
    self.action = action
    self.reason = reason
    self.payload = payload
  }
}

extension Change {
  enum CodingKeys: String, CodingKey {
    case seq, at, entity, key, op, action, reason, payload, audience
  }

  /// Writes `reason` always (`null` when none was given).
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(seq, forKey: .seq)
    try c.encode(at, forKey: .at)
    try c.encode(entity, forKey: .entity)
    try c.encode(key, forKey: .key)
    try c.encode(op, forKey: .op)
    try c.encode(action, forKey: .action)
    try c.encode(reason, forKey: .reason)
    try c.encode(payload, forKey: .payload)
    try c.encodeIfPresent(audience, forKey: .audience)
  }
}

/// A change about to be appended; the store assigns the sequence number.
public struct NewChange: Sendable, Hashable {
  public let entity: ChangeEntity
  public let key: String
  public let op: ChangeOperation
  public let payload: String
  /// The one terminal this entry is for, or nil for every terminal.
  public let audience: String?

  public init(
    entity: ChangeEntity, key: String, op: ChangeOperation = .upsert, payload: String,
    audience: String? = nil
  ) {
    self.entity = entity
    self.key = key
    self.op = op
    self.payload = payload
    self.audience = audience
  }
}

/// Which licences a listing returns.
public struct LicenceFilter: Sendable, Equatable {
  /// Only licences carrying this status code.
  public var status: StatusCode?
  /// Only licences with an active bank mandate.
  public var withMandate: Bool
  public var limit: Int?
  public var offset: Int

  public init(
    status: StatusCode? = nil, withMandate: Bool = false, limit: Int? = nil, offset: Int = 0
  ) {
    self.status = status
    self.withMandate = withMandate
    self.limit = limit
    self.offset = offset
  }
}

/// An officer as the central store knows it. Terminals never receive this: each terminal of
/// the officer's unit receives an ``OfficerNotice`` with a PIN verifier bound to it.
public struct OfficerState: Sendable, Hashable, Codable {
  public let id: String
  public let name: String
  public let unit: String
  /// `pbkdf2-sha256$…`, or null when no PIN is set (the officer cannot log in).
  public var pinHash: String?
  /// Bumped when central unlocks the officer after too many wrong PINs.
  public var unlockGeneration: Int
  /// The PIN is initial (the fixtures' or one central set): the officer must choose a new
  /// one at first login.
  public var pinMustChange: Bool
  /// When the PIN in force was set (by central, or chosen on a terminal).
  public var pinSetAt: Timestamp?
  /// Wrong PINs in a row, across the fleet, as terminals' audit chains report them.
  public var pinFailures: Int
  /// Locked at central after 5 wrong PINs in a row: no terminal logs the officer in until
  /// central unlocks them.
  public var lockedAt: Timestamp?
  /// The terminal whose audit chain showed the fifth wrong PIN.
  public var lockedOn: String?

  public init(
    id: String, name: String, unit: String, pinHash: String?, unlockGeneration: Int,
    pinMustChange: Bool = true, pinSetAt: Timestamp? = nil, pinFailures: Int = 0,
    lockedAt: Timestamp? = nil, lockedOn: String? = nil
  ) {
    self.id = id
    self.name = name
    self.unit = unit
    self.pinHash = pinHash
    self.unlockGeneration = unlockGeneration
    self.pinMustChange = pinMustChange
    self.pinSetAt = pinSetAt
    self.pinFailures = pinFailures
    self.lockedAt = lockedAt
    self.lockedOn = lockedOn
  }

  /// What `terminal` receives of this officer.
  public func notice(for terminal: String) throws -> OfficerNotice {
    OfficerNotice(
      id: id, name: name, unit: unit,
      pinVerifier: try pinHash.map { try PINHash(encoded: $0).bound(to: terminal).encoded },
      pinMustChange: pinMustChange, pinSetAt: pinSetAt, unlockGeneration: unlockGeneration,
      lockedAt: lockedAt, lockedOn: lockedOn)
  }
}

/// Who is logged in on a terminal, according to the audit chain it pushed.
public struct TerminalSession: Sendable, Hashable {
  public let terminal: String
  public let officer: String
  public let startedAt: Timestamp
  public var lastActivityAt: Timestamp

  public init(terminal: String, officer: String, startedAt: Timestamp, lastActivityAt: Timestamp) {
    self.terminal = terminal
    self.officer = officer
    self.startedAt = startedAt
    self.lastActivityAt = lastActivityAt
  }
}

/// One e-licence epoch of a licence.
public struct EpochRecord: Sendable, Hashable, Codable {
  public let epoch: Int
  public let startedAt: Timestamp
  public let reason: String

  public init(epoch: Int, startedAt: Timestamp, reason: String) {
    self.epoch = epoch
    self.startedAt = startedAt
    self.reason = reason
  }
}

/// A record a terminal pushed, with the acknowledgement it got.
public struct StoredRecord: Sendable, Equatable {
  public let recordID: String
  public let terminal: String
  public let terminalSeq: Int64
  public let kind: String
  public let createdAt: Timestamp
  public let receivedAt: Timestamp
  public let payload: String
  /// Never `duplicate`: a duplicate is answered from the first record, not stored.
  public let outcome: RecordOutcome
  public let reason: String?
  public let conflictID: String?

  public init(
    recordID: String, terminal: String, terminalSeq: Int64, kind: String, createdAt: Timestamp,
    receivedAt: Timestamp, payload: String, outcome: RecordOutcome, reason: String?,
    conflictID: String?
  ) {
    self.recordID = recordID
    self.terminal = terminal
    self.terminalSeq = terminalSeq
    self.kind = kind
    self.createdAt = createdAt
    self.receivedAt = receivedAt
    self.payload = payload
    self.outcome = outcome
    self.reason = reason
    self.conflictID = conflictID
  }
}

/// How many rows of each kind the store holds.
public struct StoreCounts: Sendable, Equatable, Codable {
  public var licences = 0
  public var vehicles = 0
  public var officers = 0
  public var terminals = 0
  public var offences = 0
  public var decisions = 0
  public var activeMandates = 0
  public var changes = 0
  public var latestSequence: Int64 = 0
  public var byStatus: [String: Int] = [:]

  public init() {}
}

/// Reading the central store. Every method sees one consistent snapshot when called
/// inside ``CentralStore/read(_:)`` or ``CentralStore/write(_:)``.
public protocol CentralReading: CentralPenaltyReading, CentralProcedureReading,
  CentralAccessReading
{
  func licence(_ number: LicenceNumber) throws -> Licence?
  func licences(_ filter: LicenceFilter) throws -> [Licence]
  func vehicles(ownedBy owner: LicenceNumber) throws -> [VehicleRecord]
  func vehicle(plate: Plate) throws -> VehicleRecord?
  func officers() throws -> [OfficerState]
  func officer(_ id: String) throws -> OfficerState?
  func terminals() throws -> [TerminalState]
  func terminal(_ id: String) throws -> TerminalState?
  func offences() throws -> [Offence]
  func decisions(for licence: LicenceNumber) throws -> [StoredDecision]
  func pointsLedger(for licence: LicenceNumber, firstIssued: LocalDate) throws -> PointsLedger
  func mandates(for licence: LicenceNumber) throws -> [MandateRecord]
  func epochs(of licence: LicenceNumber) throws -> [EpochRecord]
  /// The entries after `seq`: all of them (`for` nil), or those for every terminal and for
  /// that one terminal.
  func changes(after seq: Int64, limit: Int, for terminal: String?) throws -> [Change]
  func latestSequence() throws -> Int64
  func counts() throws -> StoreCounts
  func meta(_ key: String) throws -> String?
  func record(_ id: String) throws -> StoredRecord?
  /// The stored records among `ids`, by id: one query for a batch's duplicate check.
  func records(_ ids: [String]) throws -> [String: StoredRecord]
  /// The terminal's newest record before `seq` in its own order.
  func lastRecord(terminal: String, before seq: Int64) throws -> StoredRecord?
  func violations(licence: String, fromSeconds: Int64, toSeconds: Int64) throws -> [StoredViolation]
  /// The licence as the change log had it at `at` (nil when it had no entry yet).
  func licence(_ number: String, asOf at: Timestamp) throws -> Licence?
  /// ``licence(_:asOf:)`` for many licences and times at once, in their order.
  func licences(asOf queries: [(number: String, at: Timestamp)]) throws -> [Licence?]
  func conflicts(terminal: String?) throws -> [ConflictReport]
  func conflict(_ id: String) throws -> ConflictReport?
  /// How many rejected records of the terminal central keeps.
  func rejectedRecordCount(terminal: String) throws -> Int
  /// The audit chain of the terminal's current device.
  func auditEntries(terminal: String) throws -> [AuditEntry]
  /// The terminal's entries with these sequence numbers on its current device, by number.
  func auditEntries(terminal: String, seqs: [Int64]) throws -> [Int64: AuditEntry]
  /// Who is logged in on the terminal according to its audit chain.
  func session(terminal: String) throws -> TerminalSession?
  /// The officer's PIN hash of `version` (when it was set; `-` for the first).
  func pinHash(officer: String, version: String) throws -> String?
  /// Wrong PINs in a row for the officer on the terminal's own chain.
  func pinFailures(terminal: String, officer: String) throws -> Int
  /// The key ring: public keys with their windows and states.
  func issuerKeys() throws -> [IssuerKey]
  /// The private key of `kid`, for signing.
  func issuerPrivateKey(_ kid: String) throws -> [UInt8]?
  func calendar() throws -> WorkingCalendar
  func pendingApplication(_ number: LicenceNumber) throws -> ELicenceApplication?
  func dueApplications(at now: Timestamp) throws -> [(ELicenceApplication, [UInt8])]
  func applications(_ number: LicenceNumber) throws -> [ELicenceApplication]
  /// Applications across all licences, newest first (`state` nil: every state).
  func applications(state: ApplicationState?, limit: Int) throws -> [ELicenceApplication]
  /// The e-licences issued for `number`, newest first, judged against the licence's
  /// current epoch and `now`.
  func issuedELicences(_ number: LicenceNumber, currentEpoch: Int, at now: Timestamp) throws
    -> [ELicenceRegisterEntry]
  func latestELicence(_ number: LicenceNumber, deviceKey: [UInt8]) throws -> IssuedELicence?
}

/// Writing the central store: plain persistence of domain values. The rules live in the
/// domain and in ``CentralService``, which appends a change for everything it writes;
/// the store only guarantees that a `write` block commits all of it or none.
public protocol CentralWriting: CentralReading, CentralPenaltyStore, CentralProcedureStore,
  CentralAccessStore
{
  func insert(_ licence: Licence) throws
  func update(_ licence: Licence) throws
  func insert(_ vehicle: VehicleRecord) throws
  func insert(_ officer: OfficerRecord) throws
  func update(_ officer: OfficerState) throws
  func insert(_ terminal: TerminalRecord) throws
  func update(_ terminal: TerminalState) throws
  func upsert(_ offence: Offence, catalogueVersion: String) throws
  func insert(_ decision: StoredDecision) throws
  func insert(_ mandate: MandateRecord) throws
  func save(_ ledger: PointsLedger, for licence: LicenceNumber) throws
  func recordEpoch(_ epoch: EpochRecord, of licence: LicenceNumber) throws
  func setMeta(_ key: String, _ value: String) throws
  func insert(_ key: IssuerKey, privateKey: [UInt8]) throws
  func storeCalendar(_ days: [CalendarDay]) throws
  @discardableResult
  func insertApplication(
    _ number: LicenceNumber, deviceKey: [UInt8], appliedAt: Timestamp, readyAt: Timestamp
  ) throws
    -> ELicenceApplication
  func completeApplication(_ id: Int, state: ApplicationState, reason: String?) throws
    -> ELicenceApplication
  /// Records an issued e-licence.
  func insertELicence(
    licence: LicenceNumber, epoch: Int, kid: String, deviceKey: [UInt8], issuedAt: Timestamp,
    expiresAt: Timestamp,
    credential: Credential) throws
  func update(_ key: IssuerKey) throws
  func insert(_ record: StoredRecord) throws
  func insert(_ violation: StoredViolation) throws
  /// Stores an audit entry of the terminal's current device; fails when it already has a
  /// different entry `seq`.
  func insert(_ entry: AuditEntry, recordID: String) throws
  func savePIN(officer: String, version: String, hash: String) throws
  func setPINFailures(terminal: String, officer: String, _ failures: Int) throws
  /// Forgets every terminal's count of the officer's wrong PINs (an unlock).
  func clearPINFailures(officer: String) throws
  func save(_ session: TerminalSession) throws
  func endSession(terminal: String) throws
  /// A reset terminal id: a new device, with a new audit chain and no session.
  func startNewDevice(terminal: String) throws
  /// Stores a new conflict, numbering it `C-n`.
  func insertConflict(
    kind: ConflictKind, terminal: String, records: [String], licence: String?,
    detectedAt: Timestamp,
    description: String, resolution: String
  ) throws -> ConflictReport
  /// Takes, until the transaction ends, what lets several central nodes write at once, in
  /// the one order every writer follows:
  ///
  /// 1. the record ids (a batch replayed to two nodes is applied once);
  /// 2. the rows of the licences written about: those named, and those of the penalty
  ///    documents named (a void, a bank's answer), since `duplicate_event`,
  ///    `points_cross_12` and a void's deduction check read the licence's other rows
  ///    before they decide;
  /// 3. the rows of the officers whose lockout or PIN the transaction may change, so that
  ///    wrong PINs counted by two nodes at once are both counted;
  /// 4. then, when it logs, the change-log lock.
  ///
  /// Each list is taken in sorted order, so two transactions cannot close a cycle. On
  /// SQLite, whose one writer excludes every other, it takes nothing.
  func lockInOrder(
    records: [String], licences: [String], documents: [String], officers: [String]
  ) throws
  /// Appends to the change log. On PostgreSQL the entry takes its sequence number when the
  /// transaction ends (or when it next reads the change log): ``WriteBuffer``.
  func append(_ change: NewChange, at: Timestamp, action: String, reason: String?) throws
}

/// A deduction one worker holds while it talks to the bank about it
/// (``CentralStore/claimDeduction(_:)``). Released by ``release()``, or by the end of the
/// worker's process or database session, so a killed worker holds nothing.
public final class DeductionClaim {
  private var releasing: (() -> Void)?

  public init(release: @escaping () -> Void) { self.releasing = release }

  public func release() {
    releasing?()
    releasing = nil
  }

  deinit { releasing?() }
}

/// The central store: the narrow interface that callers use, so that another engine
/// (PostgreSQL) can implement it without touching them.
public protocol CentralStore: AnyObject {
  /// Claims the deduction of `decision` for this worker, or nil when another worker (another
  /// `central deduct`, on this node or another) holds it: a deduction is sent to the bank by
  /// one worker at a time. The claim is not a transaction: it is held across the bank's
  /// answer, and the worker re-reads the deduction once it holds it.
  func claimDeduction(_ decision: String) throws -> DeductionClaim?
  /// Runs `body` on a consistent snapshot.
  func read<T>(_ body: (any CentralReading) throws -> T) throws -> T
  /// Runs `body` in one transaction: everything it writes, change-log entries included,
  /// commits together or not at all.
  func write<T>(_ body: (any CentralWriting) throws -> T) throws -> T
}

extension CentralWriting {
  /// Locks the licences' rows alone (``lockInOrder(records:licences:documents:officers:)``).
  func lock(licences: [String]) throws {
    try lockInOrder(records: [], licences: licences, documents: [], officers: [])
  }

  /// Locks the licence of the penalty document alone.
  func lock(document: String) throws {
    try lockInOrder(records: [], licences: [], documents: [document], officers: [])
  }

  /// Locks the officers' rows alone.
  func lock(officers: [String]) throws {
    try lockInOrder(records: [], licences: [], documents: [], officers: officers)
  }
}
