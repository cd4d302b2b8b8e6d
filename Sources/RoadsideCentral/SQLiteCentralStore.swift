import Foundation
import RoadsideCredentials
import RoadsideDomain
import RoadsideFixtures
import RoadsidePostgres
import RoadsideProtocol
import RoadsideStorage

/// The central store in one SQLite file (`synchronous=FULL`: what central acknowledges
/// survives a power loss).
public final class SQLiteCentralStore: CentralStore {
  let db: Connection
  public let path: String

  /// Opens an existing store, checking that it is one and that its schema is known, and
  /// applying migrations this build has that the file has not.
  public static func open(path: String) throws -> SQLiteCentralStore {
    guard FileManager.default.fileExists(atPath: path) else {
      throw CentralError(.notFound, "no central store at \(path)")
    }
    let db: Connection
    do {
      db = try Connection(path: path, create: false, durability: .full)
    } catch {
      guard error.isNotADatabase else { throw error }
      throw CentralError(
        .unusableStore,
        "\(path) is not a SQLite database or is damaged; move it aside and run 'roadside central init'"
      )
    }
    do {
      try CentralSchema.migrator.migrate(db, creating: false)
    } catch let error as SchemaError {
      throw CentralError(
        .unusableStore, "\(error); use another --home or run 'roadside central init' in a new one")
    }
    return SQLiteCentralStore(db: db, path: path)
  }

  /// Creates a new store file at `path` (which must not exist).
  /// Creates a store at `path`; with `building`, a file to be filled whole and moved into
  /// place (``Durability/build``), which its builder syncs before moving it.
  public static func create(path: String, building: Bool = false) throws -> SQLiteCentralStore {
    guard !FileManager.default.fileExists(atPath: path) else {
      throw CentralError(.alreadyExists, "a central store already exists at \(path)")
    }
    let db = try Connection(path: path, create: true, durability: building ? .build : .full)
    try CentralSchema.migrator.migrate(db)
    return SQLiteCentralStore(db: db, path: path)
  }

  init(db: Connection, path: String) {
    self.db = db
    self.path = path
  }

  public func read<T>(_ body: (any CentralReading) throws -> T) throws -> T {
    try db.transaction(.deferred) { try body(Access(db: db)) }
  }

  public func write<T>(_ body: (any CentralWriting) throws -> T) throws -> T {
    try db.transaction(.immediate) { try body(Access(db: db)) }
  }

  /// The lock file of deduction claims, beside the store (`central.sqlite.claims`).
  private var claims: ClaimFile?

  /// A byte of `<store>.claims` locked for the decision (``ClaimFile``): another
  /// `central deduct` on the same file, in this process or another, skips it.
  public func claimDeduction(_ decision: String) throws -> DeductionClaim? {
    if claims == nil { claims = try ClaimFile(path: path + ".claims") }
    guard let release = claims?.tryClaim(decision) else { return nil }
    return DeductionClaim(release: release)
  }

  /// `PRAGMA integrity_check` of the file.
  public func integrityCheck() throws -> [String] { try db.integrityCheck() }
}

/// Reads and writes rows; used only inside a transaction of ``SQLiteCentralStore`` or
/// ``PostgresCentralStore``. One query text serves both engines: the schemas keep the same
/// tables, columns and types (booleans as 0 and 1), and what SQLite alone spells
/// (`INSERT OR …`, `instr`, `last_insert_rowid`) is written the portable way.
struct Access: CentralWriting {
  /// The connection; in a PostgreSQL write transaction, one that inserts the held-back
  /// rows before each statement (``BufferedDatabase``).
  let db: any SQLDatabase
  /// The connection itself, for the reads that touch none of the tables whose rows are
  /// held back (records, audit entries, sessions) and so need not wait for them.
  let raw: any SQLDatabase
  /// On PostgreSQL, what the open write transaction holds back and remembers.
  let buffer: WriteBuffer?

  init(db: any SQLDatabase, buffer: WriteBuffer? = nil) {
    self.raw = db
    self.buffer = buffer
    self.db = buffer.map { BufferedDatabase(base: db, buffer: $0) } ?? db
  }

  static let licenceColumns = """
    number, file_number, name, gender, birth_date, nationality, address, photo, first_issued,
    classes, validity_term, valid_from, authority_name, authority_code, status, epoch,
    suspended_until
    """

  func licenceRow(_ row: Row) throws -> Licence {
    Licence(
      number: try CitizenID(row.text(0)), fileNumber: try FileNumber(row.text(1)),
      name: row.text(2), gender: Gender(rawValue: row.text(3)) ?? .male,
      birthDate: try date(row.text(4)), nationality: row.text(5), address: row.text(6),
      photo: row.optionalText(7), firstIssued: try date(row.text(8)),
      classes: try LicenceClass.parseList(row.text(9)),
      validity: Validity(
        term: ValidityTerm(rawValue: row.text(10)) ?? .sixYears, from: try date(row.text(11))),
      authority: IssuingAuthority(name: row.text(12), code: row.text(13)),
      status: try LicenceStatus(code: row.text(14)), epoch: row.int(15),
      suspendedUntil: try row.optionalText(16).map(date))
  }

  func date(_ text: String) throws -> LocalDate {
    guard let value = LocalDate(iso: text) else {
      throw CentralError(
        .unusableStore, "the central store holds a malformed date; run 'PRAGMA integrity_check'")
    }
    return value
  }

  func licence(_ number: LicenceNumber) throws -> Licence? {
    try db.fetchOne("SELECT \(Access.licenceColumns) FROM licences WHERE number = ?", number.value)
    {
      try licenceRow($0)
    }
  }

  func licences(_ filter: LicenceFilter) throws -> [Licence] {
    var sql = "SELECT \(Access.licenceColumns) FROM licences WHERE status LIKE '%' || ? || '%'"
    if filter.withMandate {
      sql +=
        " AND EXISTS (SELECT 1 FROM mandates m WHERE m.licence = number AND m.revoked_on IS NULL)"
    }
    sql += " ORDER BY number LIMIT ? OFFSET ?"
    return try db.fetchAll(
      sql, filter.status?.rawValue ?? "", filter.limit.map(Int64.init) ?? Int64.max,
      filter.offset
    ) {
      try licenceRow($0)
    }
  }

  func vehicleRow(_ row: Row) throws -> VehicleRecord {
    VehicleRecord(
      plate: try Plate(row.text(0)), vehicleClass: try LicenceClass(code: row.text(1)),
      owner: try CitizenID(row.text(2)), model: row.text(3), registered: try date(row.text(4)))
  }

  func vehicles(ownedBy owner: LicenceNumber) throws -> [VehicleRecord] {
    try db.fetchAll(
      "SELECT plate, vehicle_class, owner, model, registered FROM vehicles WHERE owner = ? ORDER BY plate",
      owner.value
    ) { try vehicleRow($0) }
  }

  func vehicle(plate: Plate) throws -> VehicleRecord? {
    try db.fetchOne(
      "SELECT plate, vehicle_class, owner, model, registered FROM vehicles WHERE plate = ?",
      plate.value
    ) { try vehicleRow($0) }
  }

  static let officerColumns = """
    id, name, unit, pin_hash, unlock_generation, pin_must_change, pin_set_at, pin_failures,
    locked_at, locked_on
    """

  func officerRow(_ row: Row) -> OfficerState {
    OfficerState(
      id: row.text(0), name: row.text(1), unit: row.text(2), pinHash: row.optionalText(3),
      unlockGeneration: row.int(4), pinMustChange: row.int(5) != 0,
      pinSetAt: row.optionalText(6).flatMap { Timestamp(iso: $0) }, pinFailures: row.int(7),
      lockedAt: row.optionalText(8).flatMap { Timestamp(iso: $0) }, lockedOn: row.optionalText(9))
  }

  func officers() throws -> [OfficerState] {
    try db.fetchAll("SELECT \(Self.officerColumns) FROM officers ORDER BY id") { officerRow($0) }
  }

  func officer(_ id: String) throws -> OfficerState? {
    if let remembered = buffer?.officers[id] { return remembered }
    let officer = try raw.fetchOne("SELECT \(Self.officerColumns) FROM officers WHERE id = ?", id) {
      officerRow($0)
    }
    buffer?.officers[id] = .some(officer)
    return officer
  }

  static let terminalColumns = "id, unit, status, public_key, registered_at, revoked_at"

  func terminalRow(_ row: Row) throws -> TerminalState {
    TerminalState(
      id: row.text(0), unit: row.text(1), status: try row.value(2),
      publicKey: row.optionalBlob(3).map { Data($0).base64EncodedString() },
      registeredAt: row.optionalText(4).flatMap { Timestamp(iso: $0) },
      revokedAt: row.optionalText(5).flatMap { Timestamp(iso: $0) })
  }

  func terminals() throws -> [TerminalState] {
    try db.fetchAll("SELECT \(Access.terminalColumns) FROM terminals ORDER BY id") {
      try terminalRow($0)
    }
  }

  func terminal(_ id: String) throws -> TerminalState? {
    try db.fetchOne("SELECT \(Access.terminalColumns) FROM terminals WHERE id = ?", id) {
      try terminalRow($0)
    }
  }

  func offences() throws -> [Offence] {
    let decoder = JSONDecoder()
    return try db.fetchAll("SELECT body FROM offences ORDER BY points DESC, code") {
      try decoder.decode(Offence.self, from: Data($0.text(0).utf8))
    }
  }

  func decisions(for licence: LicenceNumber) throws -> [StoredDecision] {
    try db.fetchAll(
      """
      SELECT number, licence, plate, offence, decided_on, fine_fen, points, paid, place, state
      FROM decisions WHERE licence = ? ORDER BY decided_on, number
      """, licence.value
    ) { row in
      StoredDecision(
        number: row.text(0), licence: try CitizenID(row.text(1)), plate: row.optionalText(2),
        offence: row.text(3), decidedOn: try date(row.text(4)), fine: Money(fen: row.int64(5)),
        points: row.int(6), paid: row.bool(7), place: row.text(8), state: try row.value(9))
    }
  }

  func pointsLedger(for licence: LicenceNumber, firstIssued: LocalDate) throws -> PointsLedger {
    let entries = try db.fetchAll(
      """
      SELECT decision, offence, points, decided_on, counts_in_cycle, fine_paid, revoked, cleared
      FROM points_entries WHERE licence = ? ORDER BY decided_on, decision
      """, licence.value
    ) { row in
      PointsEntry(
        decisionNumber: row.text(0), offenceCode: row.text(1), points: row.int(2),
        decidedOn: try date(row.text(3)), countsInCycle: try date(row.text(4)),
        finePaid: row.bool(5), revoked: row.bool(6), cleared: row.bool(7))
    }
    let reductions = try db.fetchAll(
      "SELECT date, points, cycle_start FROM points_reductions WHERE licence = ? ORDER BY id",
      licence.value
    ) { row in
      PointsReduction(
        date: try date(row.text(0)), points: row.int(1), cycleStart: try date(row.text(2)))
    }
    let closed = try db.fetchAll(
      "SELECT cycle_start FROM points_closed_cycles WHERE licence = ? ORDER BY cycle_start",
      licence.value
    ) { try date($0.text(0)) }
    return PointsLedger(
      firstIssued: firstIssued, entries: entries, reductions: reductions, closedCycles: closed)
  }

  func mandates(for licence: LicenceNumber) throws -> [MandateRecord] {
    try db.fetchAll(
      "SELECT licence, bank, account, authorised_on, revoked_on FROM mandates WHERE licence = ? ORDER BY id",
      licence.value
    ) { row in
      MandateRecord(
        licence: try CitizenID(row.text(0)), bank: row.text(1), account: row.text(2),
        authorisedOn: try date(row.text(3)), revokedOn: try row.optionalText(4).map(date))
    }
  }

  func epochs(of licence: LicenceNumber) throws -> [EpochRecord] {
    try db.fetchAll(
      "SELECT epoch, started_at, reason FROM elicence_epochs WHERE licence = ? ORDER BY epoch",
      licence.value
    ) { row in
      EpochRecord(
        epoch: row.int(0),
        startedAt: Timestamp(iso: row.text(1)) ?? Timestamp(secondsSinceEpoch: 0),
        reason: row.text(2))
    }
  }

  func changes(after seq: Int64, limit: Int, for terminal: String?) throws -> [Change] {
    try flushChangeLog()
    return try db.fetchAll(
      """
      SELECT seq, at, entity, key, op, action, reason, payload, audience FROM change_log
      WHERE seq > ?1 AND (CAST(?2 AS TEXT) IS NULL OR audience IS NULL OR audience = ?2) ORDER BY seq LIMIT ?3
      """,
      seq, terminal, limit
    ) { row in
      Change(
        seq: row.int64(0), at: Timestamp(iso: row.text(1)) ?? Timestamp(secondsSinceEpoch: 0),
        entity: try row.value(2), key: row.text(3), op: try row.value(4), action: row.text(5),
        reason: row.optionalText(6), payload: row.text(7), audience: row.optionalText(8))
    }
  }

  func latestSequence() throws -> Int64 {
    try flushChangeLog()
    return try db.fetchOne("SELECT coalesce(max(seq), 0) FROM change_log") { $0.int64(0) } ?? 0
  }

  func counts() throws -> StoreCounts {
    try flushChangeLog()
    var counts = StoreCounts()
    func count(_ sql: String) throws -> Int { try db.fetchOne(sql) { $0.int(0) } ?? 0 }
    counts.licences = try count("SELECT count(*) FROM licences")
    counts.vehicles = try count("SELECT count(*) FROM vehicles")
    counts.officers = try count("SELECT count(*) FROM officers")
    counts.terminals = try count("SELECT count(*) FROM terminals")
    counts.offences = try count("SELECT count(*) FROM offences")
    counts.decisions = try count("SELECT count(*) FROM decisions")
    counts.activeMandates = try count("SELECT count(*) FROM mandates WHERE revoked_on IS NULL")
    counts.changes = try count("SELECT count(*) FROM change_log")
    counts.latestSequence = try latestSequence()
    for (status, count) in try db.fetchAll(
      "SELECT status, count(*) FROM licences GROUP BY status ORDER BY status",
      map: { ($0.text(0), $0.int(1)) })
    {
      counts.byStatus[status] = count
    }
    return counts
  }

  func meta(_ key: String) throws -> String? {
    try db.fetchOne("SELECT value FROM store_meta WHERE key = ?", key) { $0.text(0) }
  }

  static let recordColumns = """
    record_id, terminal, terminal_seq, kind, created_at, received_at, payload, outcome, reason, conflict
    """

  func recordRow(_ row: Row) throws -> StoredRecord {
    StoredRecord(
      recordID: row.text(0), terminal: row.text(1), terminalSeq: row.int64(2), kind: row.text(3),
      createdAt: Timestamp(iso: row.text(4)) ?? Timestamp(secondsSinceEpoch: 0),
      receivedAt: Timestamp(iso: row.text(5)) ?? Timestamp(secondsSinceEpoch: 0),
      payload: row.text(6),
      outcome: try row.value(7), reason: row.optionalText(8), conflictID: row.optionalText(9))
  }

  func record(_ id: String) throws -> StoredRecord? {
    try db.fetchOne("SELECT \(Access.recordColumns) FROM records WHERE record_id = ?", id) {
      try recordRow($0)
    }
  }

  func records(_ ids: [String]) throws -> [String: StoredRecord] {
    var found: [String: StoredRecord] = [:]
    // 500 ids a statement keeps within SQLite's and PostgreSQL's parameter limits.
    for start in stride(from: 0, to: ids.count, by: 500) {
      let chunk = Array(ids[start..<min(ids.count, start + 500)])
      for record in try db.fetchAll(
        "SELECT \(Access.recordColumns) FROM records WHERE record_id IN ("
          + Array(repeating: "?", count: chunk.count).joined(separator: ", ") + ")",
        arguments: chunk.map { .text($0) }, map: recordRow)
      {
        found[record.recordID] = record
      }
    }
    return found
  }

  func lastRecord(terminal: String, before seq: Int64) throws -> StoredRecord? {
    try db.fetchOne(
      """
      SELECT \(Access.recordColumns) FROM records WHERE terminal = ? AND terminal_seq < ?
      ORDER BY terminal_seq DESC LIMIT 1
      """, terminal, seq
    ) { try recordRow($0) }
  }

  func violations(licence: String, fromSeconds: Int64, toSeconds: Int64) throws -> [StoredViolation]
  {
    try db.fetchAll(
      """
      SELECT record_id, terminal, licence, plate, offence, points, at, officer, place, state
      FROM violations WHERE licence = ? AND at_seconds BETWEEN ? AND ? ORDER BY at_seconds, record_id
      """, licence, fromSeconds, toSeconds
    ) { row in
      StoredViolation(
        recordID: row.text(0), terminal: row.text(1),
        violation: ViolationRecord(
          licence: row.text(2), plate: row.text(3), offence: row.text(4), points: row.int(5),
          at: Timestamp(iso: row.text(6)) ?? Timestamp(secondsSinceEpoch: 0), officer: row.text(7),
          place: row.text(8)),
        state: try row.value(9))
    }
  }

  func licence(_ number: String, asOf at: Timestamp) throws -> Licence? {
    // Change times are ISO strings in one zone and format, so they order as text.
    try flushChangeLog()
    let payload = try raw.fetchOne(
      """
      SELECT payload FROM change_log WHERE entity = 'licence' AND key = ? AND at <= ?
      ORDER BY seq DESC LIMIT 1
      """, number, at.description
    ) { $0.text(0) }
    return try payload.map { try JSONDecoder().decode(Licence.self, from: Data($0.utf8)) }
  }

  func licences(asOf queries: [(number: String, at: Timestamp)]) throws -> [Licence?] {
    guard !queries.isEmpty else { return [] }
    try flushChangeLog()
    // The list's text has the default collation; the log's columns are "C" on PostgreSQL.
    let collate = raw.dialect == .postgresql ? " COLLATE \"C\"" : ""
    var licences = [Licence?](repeating: nil, count: queries.count)
    for start in stride(from: 0, to: queries.count, by: WriteBuffer.rowsPerStatement) {
      let end = min(queries.count, start + WriteBuffer.rowsPerStatement)
      let rows = try raw.fetchAll(
        """
        SELECT v.column1, (SELECT payload FROM change_log WHERE entity = 'licence'
            AND key = v.column2\(collate) AND at <= v.column3\(collate) ORDER BY seq DESC LIMIT 1)
        FROM (VALUES
        """
          + Array(repeating: "(CAST(? AS BIGINT), ?, ?)", count: end - start).joined(
            separator: ", ") + ") AS v",
        arguments: (start..<end).flatMap { index -> [SQLValue] in
          [
            .integer(Int64(index)), .text(queries[index].number),
            .text(queries[index].at.description),
          ]
        }
      ) { ($0.int(0), $0.optionalText(1)) }
      for (index, payload) in rows {
        licences[index] = try payload.map {
          try JSONDecoder().decode(Licence.self, from: Data($0.utf8))
        }
      }
    }
    return licences
  }

  func conflictRow(_ row: Row) throws -> ConflictReport {
    ConflictReport(
      id: row.text(0), kind: try row.value(1), terminal: row.text(2),
      records: row.text(3).split(separator: ",").map(String.init), licence: row.optionalText(4),
      detectedAt: Timestamp(iso: row.text(5)) ?? Timestamp(secondsSinceEpoch: 0),
      description: row.text(6),
      resolution: row.text(7))
  }

  func conflicts(terminal: String?) throws -> [ConflictReport] {
    try db.fetchAll(
      """
      SELECT id, kind, terminal, records, licence, detected_at, description, resolution FROM conflicts
      WHERE CAST(?1 AS TEXT) IS NULL OR terminal = ?1 ORDER BY number
      """, terminal
    ) { try conflictRow($0) }
  }

  func conflict(_ id: String) throws -> ConflictReport? {
    try db.fetchOne(
      "SELECT id, kind, terminal, records, licence, detected_at, description, resolution FROM conflicts WHERE id = ?",
      id
    ) { try conflictRow($0) }
  }

  func auditEntries(terminal: String) throws -> [AuditEntry] {
    try db.fetchAll(
      """
      SELECT seq, at, officer, action, subject, result, previous_hash, hash, proof
      FROM audit_entries
      WHERE terminal = ?1 AND device = (SELECT device FROM terminals WHERE id = ?1) ORDER BY seq
      """, terminal
    ) { auditRow($0, terminal: terminal) }
  }

  func auditEntries(terminal: String, seqs: [Int64]) throws -> [Int64: AuditEntry] {
    guard !seqs.isEmpty else { return [:] }
    let entries = try db.fetchAll(
      """
      SELECT seq, at, officer, action, subject, result, previous_hash, hash, proof
      FROM audit_entries
      WHERE terminal = ? AND device = (SELECT device FROM terminals WHERE id = ?) AND seq IN (
      """ + Array(repeating: "?", count: seqs.count).joined(separator: ", ") + ")",
      arguments: [.text(terminal), .text(terminal)] + seqs.map(SQLValue.integer)
    ) { auditRow($0, terminal: terminal) }
    return Dictionary(entries.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
  }

  func auditRow(_ row: Row, terminal: String) -> AuditEntry {
    AuditEntry(
      seq: row.int64(0), terminal: terminal,
      at: Timestamp(iso: row.text(1)) ?? Timestamp(secondsSinceEpoch: 0), officer: row.text(2),
      action: row.text(3), subject: row.text(4), result: row.text(5), previousHash: row.text(6),
      hash: row.text(7), proof: row.optionalText(8))
  }

  func rejectedRecordCount(terminal: String) throws -> Int {
    try db.fetchOne(
      "SELECT count(*) FROM records WHERE terminal = ? AND outcome = 'rejected'", terminal
    ) { $0.int(0) } ?? 0
  }

  func pinHash(officer: String, version: String) throws -> String? {
    try db.fetchOne(
      "SELECT hash FROM officer_pins WHERE officer = ? AND version = ?", officer, version
    ) { $0.text(0) }
  }

  func pinFailures(terminal: String, officer: String) throws -> Int {
    try db.fetchOne(
      "SELECT failures FROM terminal_pin_failures WHERE terminal = ? AND officer = ?", terminal,
      officer
    ) { $0.int(0) } ?? 0
  }

  func session(terminal: String) throws -> TerminalSession? {
    if let remembered = buffer?.sessions[terminal] { return remembered }
    let session = try raw.fetchOne(
      "SELECT officer, started_at, last_activity_at FROM terminal_sessions WHERE terminal = ?",
      terminal
    ) { row in
      TerminalSession(
        terminal: terminal, officer: row.text(0),
        startedAt: Timestamp(iso: row.text(1)) ?? Timestamp(secondsSinceEpoch: 0),
        lastActivityAt: Timestamp(iso: row.text(2)) ?? Timestamp(secondsSinceEpoch: 0))
    }
    buffer?.sessions[terminal] = .some(session)
    return session
  }

  func issuerKeys() throws -> [IssuerKey] {
    try db.fetchAll(
      "SELECT kid, public_key, valid_from, valid_until, state FROM issuer_keys ORDER BY valid_from, kid"
    ) { row in
      IssuerKey(
        kid: row.text(0), publicKey: row.blob(1),
        validFrom: Timestamp(iso: row.text(2)) ?? Timestamp(secondsSinceEpoch: 0),
        validUntil: Timestamp(iso: row.text(3)) ?? Timestamp(secondsSinceEpoch: 0),
        state: try row.value(4))
    }
  }

  func issuerPrivateKey(_ kid: String) throws -> [UInt8]? {
    try db.fetchOne("SELECT private_key FROM issuer_keys WHERE kid = ?", kid) { $0.blob(0) }
  }

  // MARK: Writes

  func insertELicence(
    licence: LicenceNumber, epoch: Int, kid: String, deviceKey: [UInt8], issuedAt: Timestamp,
    expiresAt: Timestamp,
    credential: Credential
  ) throws {
    try db.execute(
      """
      INSERT INTO elicences (licence, epoch, kid, device_key, issued_at, expires_at, issuer_part, disclosures)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      """, licence.value, epoch, kid, deviceKey, issuedAt.description, expiresAt.description,
      credential.issuerPart,
      try CanonicalJSON.string(credential.disclosures))
  }

  func insert(_ key: IssuerKey, privateKey: [UInt8]) throws {
    try db.execute(
      """
      INSERT INTO issuer_keys (kid, public_key, private_key, valid_from, valid_until, state)
      VALUES (?, ?, ?, ?, ?, ?)
      """, key.kid, key.publicKey, privateKey, key.validFrom.description,
      key.validUntil.description, key.state.rawValue)
  }

  func update(_ key: IssuerKey) throws {
    try db.execute(
      "UPDATE issuer_keys SET valid_until = ?, state = ? WHERE kid = ?", key.validUntil.description,
      key.state.rawValue, key.kid)
  }

  func insert(_ r: StoredRecord) throws {
    if let buffer {
      buffer.records.append(r)
      return
    }
    try db.execute(
      "INSERT INTO records (\(Access.recordColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      r.recordID, r.terminal, r.terminalSeq, r.kind, r.createdAt.description,
      r.receivedAt.description,
      r.payload, r.outcome.rawValue, r.reason, r.conflictID)
  }

  func insert(_ v: StoredViolation) throws {
    let x = v.violation
    try db.execute(
      """
      INSERT INTO violations (record_id, terminal, licence, plate, offence, points, at, at_seconds, officer,
        place, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """, v.recordID, v.terminal, x.licence, x.plate, x.offence, x.points, x.at.description,
      x.at.secondsSinceEpoch, x.officer, x.place, v.state.rawValue)
  }

  func insert(_ e: AuditEntry, recordID: String) throws {
    if let buffer {
      buffer.auditEntries.append((e, recordID))
      return
    }
    try db.execute(
      """
      INSERT INTO audit_entries (terminal, device, seq, at, officer, action, subject, result,
        previous_hash, hash, record_id, proof)
      VALUES (?1, (SELECT device FROM terminals WHERE id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,
        ?10, ?11)
      """, e.terminal, e.seq, e.at.description, e.officer, e.action, e.subject, e.result,
      e.previousHash,
      e.hash, recordID, e.proof)
  }

  func save(_ session: TerminalSession) throws {
    if let buffer {
      buffer.savedSessions[session.terminal] = session
      buffer.sessions[session.terminal] = .some(session)
      return
    }
    try db.execute(
      """
      INSERT INTO terminal_sessions (terminal, officer, started_at, last_activity_at)
      VALUES (?, ?, ?, ?)
      ON CONFLICT (terminal) DO UPDATE SET officer = excluded.officer,
        started_at = excluded.started_at, last_activity_at = excluded.last_activity_at
      """, session.terminal, session.officer, session.startedAt.description,
      session.lastActivityAt.description)
  }

  func savePIN(officer: String, version: String, hash: String) throws {
    try db.execute(
      """
      INSERT INTO officer_pins (officer, version, hash) VALUES (?, ?, ?)
      ON CONFLICT (officer, version) DO UPDATE SET hash = excluded.hash
      """, officer, version, hash)
  }

  func setPINFailures(terminal: String, officer: String, _ failures: Int) throws {
    try db.execute(
      """
      INSERT INTO terminal_pin_failures (terminal, officer, failures) VALUES (?, ?, ?)
      ON CONFLICT (terminal, officer) DO UPDATE SET failures = excluded.failures
      """, terminal, officer, failures)
  }

  func clearPINFailures(officer: String) throws {
    try db.execute("DELETE FROM terminal_pin_failures WHERE officer = ?", officer)
  }

  func endSession(terminal: String) throws {
    try db.execute("DELETE FROM terminal_sessions WHERE terminal = ?", terminal)
    buffer?.sessions[terminal] = .some(nil)
  }

  func startNewDevice(terminal: String) throws {
    try db.execute("UPDATE terminals SET device = device + 1 WHERE id = ?", terminal)
    try endSession(terminal: terminal)
  }

  func insertConflict(
    kind: ConflictKind, terminal: String, records: [String], licence: String?,
    detectedAt: Timestamp, description: String, resolution: String
  ) throws -> ConflictReport {
    try lockChangeLog()  // conflict numbers are taken in the same order as sequence numbers
    let number =
      (try db.fetchOne("SELECT coalesce(max(number), 0) + 1 FROM conflicts") { $0.int(0) }) ?? 1
    let report = ConflictReport(
      id: "C-\(number)", kind: kind, terminal: terminal, records: records, licence: licence,
      detectedAt: detectedAt, description: description, resolution: resolution)
    try db.execute(
      """
      INSERT INTO conflicts (id, number, kind, terminal, records, licence, detected_at, description, resolution)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      """, report.id, number, kind.rawValue, terminal, records.joined(separator: ","), licence,
      detectedAt.description, description, resolution)
    return report
  }

  func insert(_ l: Licence) throws {
    try db.execute(
      """
      INSERT INTO licences (\(Access.licenceColumns), valid_until)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      l.number.value, l.fileNumber.value, l.name, l.gender.rawValue, l.birthDate.description,
      l.nationality, l.address, l.photo, l.firstIssued.description, l.classes.code,
      l.validity.term.rawValue, l.validity.validFrom.description, l.authority.name,
      l.authority.code, l.status.code, l.epoch, l.suspendedUntil?.description,
      l.validity.validUntil?.description)
  }

  func update(_ l: Licence) throws {
    let changed = try db.execute(
      """
      UPDATE licences SET name = ?, address = ?, photo = ?, classes = ?, validity_term = ?,
        valid_from = ?, valid_until = ?, authority_name = ?, authority_code = ?, status = ?,
        epoch = ?, suspended_until = ?
      WHERE number = ?
      """,
      l.name, l.address, l.photo, l.classes.code, l.validity.term.rawValue,
      l.validity.validFrom.description, l.validity.validUntil?.description, l.authority.name,
      l.authority.code, l.status.code, l.epoch, l.suspendedUntil?.description, l.number.value)
    if changed != 1 {
      throw CentralError(.notFound, "no licence \(l.number.masked) in the central store")
    }
  }

  func insert(_ v: VehicleRecord) throws {
    try db.execute(
      "INSERT INTO vehicles (plate, vehicle_class, owner, model, registered) VALUES (?, ?, ?, ?, ?)",
      v.plate.value, v.vehicleClass.rawValue, v.owner.value, v.model, v.registered.description)
  }

  func insert(_ o: OfficerRecord) throws {
    try db.execute(
      "INSERT INTO officers (id, name, unit, pin_hash) VALUES (?, ?, ?, ?)", o.id, o.name, o.unit,
      o.pinHash.encoded)
    try savePIN(officer: o.id, version: "-", hash: o.pinHash.encoded)
  }

  func update(_ o: OfficerState) throws {
    let changed = try db.execute(
      """
      UPDATE officers SET pin_hash = ?, unlock_generation = ?, pin_must_change = ?, pin_set_at = ?,
        pin_failures = ?, locked_at = ?, locked_on = ? WHERE id = ?
      """, o.pinHash, o.unlockGeneration, o.pinMustChange, o.pinSetAt?.description, o.pinFailures,
      o.lockedAt?.description, o.lockedOn, o.id)
    if changed != 1 { throw CentralError(.notFound, "no officer \(o.id) in the central store") }
    buffer?.officers[o.id] = .some(o)
  }

  func insert(_ t: TerminalRecord) throws {
    try db.execute("INSERT INTO terminals (id, unit) VALUES (?, ?)", t.id, t.unit)
  }

  func update(_ t: TerminalState) throws {
    let key = t.publicKey.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
    let changed = try db.execute(
      "UPDATE terminals SET status = ?, public_key = ?, registered_at = ?, revoked_at = ? WHERE id = ?",
      t.status.rawValue, key, t.registeredAt?.description, t.revokedAt?.description, t.id)
    if changed != 1 { throw CentralError(.notFound, "no terminal \(t.id) in the central store") }
  }

  func upsert(_ offence: Offence, catalogueVersion: String) throws {
    try db.execute(
      """
      INSERT INTO offences (code, catalogue_version, points, body) VALUES (?, ?, ?, ?)
      ON CONFLICT (code) DO UPDATE SET catalogue_version = excluded.catalogue_version,
        points = excluded.points, body = excluded.body
      """, offence.code, catalogueVersion, offence.points, try CanonicalJSON.string(offence))
  }

  func insert(_ d: StoredDecision) throws {
    try db.execute(
      """
      INSERT INTO decisions (number, licence, plate, offence, decided_on, fine_fen, points, paid, place, state)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """, d.number, d.licence.value, d.plate, d.offence, d.decidedOn.description, d.fine.fen,
      d.points, d.paid, d.place, d.state.rawValue)
  }

  func insert(_ m: MandateRecord) throws {
    try db.execute(
      "INSERT INTO mandates (licence, bank, account, authorised_on, revoked_on) VALUES (?, ?, ?, ?, ?)",
      m.licence.value, m.bank, m.account, m.authorisedOn.description, m.revokedOn?.description)
  }

  func save(_ ledger: PointsLedger, for licence: LicenceNumber) throws {
    for entry in ledger.entries {
      try db.execute(
        """
        INSERT INTO points_entries (decision, licence, offence, points, decided_on, counts_in_cycle,
          fine_paid, revoked, cleared)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (decision) DO UPDATE SET counts_in_cycle = excluded.counts_in_cycle,
          fine_paid = excluded.fine_paid, revoked = excluded.revoked, cleared = excluded.cleared
        """, entry.decisionNumber, licence.value, entry.offenceCode, entry.points,
        entry.decidedOn.description, entry.countsInCycle.description, entry.finePaid,
        entry.revoked, entry.cleared)
    }
    try db.execute("DELETE FROM points_reductions WHERE licence = ?", licence.value)
    for reduction in ledger.reductions {
      try db.execute(
        "INSERT INTO points_reductions (licence, date, points, cycle_start) VALUES (?, ?, ?, ?)",
        licence.value, reduction.date.description, reduction.points,
        reduction.cycleStart.description)
    }
    for cycle in ledger.closedCycles {
      try db.execute(
        "INSERT INTO points_closed_cycles (licence, cycle_start) VALUES (?, ?) ON CONFLICT DO NOTHING",
        licence.value, cycle.description)
    }
  }

  func recordEpoch(_ epoch: EpochRecord, of licence: LicenceNumber) throws {
    try db.execute(
      "INSERT INTO elicence_epochs (licence, epoch, started_at, reason) VALUES (?, ?, ?, ?)",
      licence.value, epoch.epoch, epoch.startedAt.description, epoch.reason)
  }

  func setMeta(_ key: String, _ value: String) throws {
    try db.execute(
      "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key, value)
  }

  func lockInOrder(
    records: [String], licences: [String], documents: [String], officers: [String]
  ) throws {
    guard db.dialect == .postgresql else { return }
    if !records.isEmpty {
      try db.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(id, \(PostgresLocks.recordSeed))) FROM (VALUES "
          + Array(repeating: "(?)", count: records.count).joined(separator: ", ") + ") AS r (id)",
        arguments: records.sorted().map { .text($0) })
    }
    var locked = Set(licences)
    if !documents.isEmpty {
      // A document's licence never changes, so reading it before the lock is safe.
      let list = Array(repeating: "?", count: documents.count).joined(separator: ", ")
      let numbers = documents.map(SQLValue.text)
      locked.formUnion(
        try db.fetchAll(
          "SELECT licence FROM documents WHERE number IN (\(list)) UNION SELECT licence FROM decisions WHERE number IN (\(list))",
          arguments: numbers + numbers
        ) { $0.text(0) })
    }
    for licence in locked.sorted() {
      try db.execute("SELECT 1 FROM licences WHERE number = ? FOR NO KEY UPDATE", licence)
    }
    for officer in Set(officers).sorted() {
      try db.execute("SELECT 1 FROM officers WHERE id = ? FOR NO KEY UPDATE", officer)
    }
  }

  /// On PostgreSQL, takes the change-log lock (``append(_:at:action:reason:)``).
  func lockChangeLog() throws {
    // The change-log watermark (docs/scale.md): a sequence number is taken under this
    // transaction-scoped lock, held until commit, so entries become visible in sequence
    // order and a pulling cursor never passes a number a slower transaction still holds.
    guard let postgres = raw as? PostgresDatabase else { return }
    try postgres.advisoryLock(PostgresLocks.changeLog)
  }

  func append(_ change: NewChange, at: Timestamp, action: String, reason: String?) throws {
    if let buffer {
      buffer.changeLog.append(
        WriteBuffer.ChangeLogEntry(change: change, at: at, action: action, reason: reason))
      return
    }
    // Unbuffered (SQLite; a PostgreSQL writer always has a buffer): the lock is taken here.
    try lockChangeLog()
    try db.execute(
      """
      INSERT INTO change_log (at, entity, key, op, action, reason, payload, audience)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      """,
      at.description, change.entity.rawValue, change.key, change.op.rawValue, action, reason,
      change.payload, change.audience)
  }

  /// Inserts what the transaction holds back: its rows, then its change-log entries.
  func flushAll() throws {
    try buffer?.flushRows(into: raw)
    try flushChangeLog()
  }

  /// Inserts the buffered entries, in the order they were appended, under the change-log
  /// lock, which the transaction then holds to its commit.
  func flushChangeLog() throws {
    guard let buffer, !buffer.changeLog.isEmpty else { return }
    try lockChangeLog()
    let entries = buffer.changeLog
    buffer.changeLog.removeAll()
    // A multi-row VALUES list is inserted row by row in its order, so the entries take
    // their sequence numbers in the order they were appended.
    try WriteBuffer.insert(
      entries, into: db,
      head:
        "INSERT INTO change_log (at, entity, key, op, action, reason, payload, audience) VALUES ",
      row: "(?, ?, ?, ?, ?, ?, ?, ?)"
    ) { _, entry in
      [
        .text(entry.at.description), .text(entry.change.entity.rawValue),
        .text(entry.change.key), .text(entry.change.op.rawValue), .text(entry.action),
        entry.reason.map(SQLValue.text) ?? .null, .text(entry.change.payload),
        entry.change.audience.map(SQLValue.text) ?? .null,
      ]
    }
  }
}
