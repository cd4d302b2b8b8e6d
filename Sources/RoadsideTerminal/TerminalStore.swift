import Foundation
public import RoadsideCredentials
public import RoadsideDomain
public import RoadsideMutants
public import RoadsideProtocol
import RoadsideStorage

/// The terminal's identity: its id, unit, the central it syncs with, and its Ed25519 key
/// pair (generated on the terminal; only the public key ever leaves it).
public struct TerminalIdentity: Sendable, Equatable {
  public let terminal: String
  public let unit: String
  /// `http://host:port` or `local` (the central store of the same home, in-process).
  public let central: String
  public let privateKey: [UInt8]
  public let publicKey: [UInt8]
  public let createdAt: Timestamp

  public init(
    terminal: String, unit: String, central: String, privateKey: [UInt8], publicKey: [UInt8],
    createdAt: Timestamp
  ) {
    self.terminal = terminal
    self.unit = unit
    self.central = central
    self.privateKey = privateKey
    self.publicKey = publicKey
    self.createdAt = createdAt
  }
}

/// The pull cursor and what is known about the last sync.
public struct SyncState: Sendable, Equatable, Codable {
  public let cursor: Int64
  public let centralLatest: Int64
  public let lastAttemptAt: Timestamp?
  public let lastSuccessAt: Timestamp?
  public let lastError: String?
}

/// A licence as the terminal caches it: what a roadside check needs, nothing more.
public struct CachedLicence: Sendable, Equatable, Codable {
  public let number: LicenceNumber
  public let name: String
  public let gender: Gender
  public let birthDate: LocalDate
  public let firstIssued: LocalDate
  public let classes: [LicenceClass]
  public let validity: Validity
  public let authority: String
  public let status: LicenceStatus
  public let epoch: Int
  public let suspendedUntil: LocalDate?
}

/// A decision as the terminal caches it.
public struct CachedDecision: Sendable, Equatable, Codable {
  public let number: String
  public let offence: String
  public let decidedOn: LocalDate
  public let fine: Money
  public let points: Int
  public let paid: Bool
  public let state: DecisionState
}

/// The terminal's SQLite file. Not thread-safe: one owner at a time.
public final class TerminalStore {
  let db: Connection
  public let path: String
  /// A deliberate bug for the simulation to catch (`simulate --mutant`); nil everywhere
  /// else.
  public var mutant: Mutant?

  init(db: Connection, path: String) {
    self.db = db
    self.path = path
  }

  /// Creates the file for a new terminal.
  public static func create(path: String, identity: TerminalIdentity) throws -> TerminalStore {
    guard !FileManager.default.fileExists(atPath: path) else {
      throw TerminalError(.alreadyExists, "terminal \(identity.terminal) already exists at \(path)")
    }
    try PrivateFiles.createDirectory(atPath: (path as NSString).deletingLastPathComponent)
    let db = try Connection(path: path, create: true, durability: .full)
    try TerminalSchema.migrator.migrate(db)
    try db.execute(
      """
      INSERT INTO identity (id, terminal, unit, central, private_key, public_key, created_at)
      VALUES (1, ?, ?, ?, ?, ?, ?)
      """, identity.terminal, identity.unit, identity.central, identity.privateKey,
      identity.publicKey, identity.createdAt.description)
    return TerminalStore(db: db, path: path)
  }

  /// Opens an existing terminal file.
  public static func open(path: String, terminal: String) throws -> TerminalStore {
    guard FileManager.default.fileExists(atPath: path) else {
      throw TerminalError(
        .notFound,
        "no terminal \(terminal) in this home; run 'roadside terminal init --id \(terminal) --central …'"
      )
    }
    let db: Connection
    do {
      db = try Connection(path: path, create: false, durability: .full)
    } catch {
      guard error.isNotADatabase else { throw error }
      throw TerminalError(
        .unusable,
        "\(path) is not a SQLite database or is damaged; move it aside and run 'roadside terminal init' again"
      )
    }
    do {
      try TerminalSchema.migrator.migrate(db, creating: false)
    } catch let error as SchemaError {
      throw TerminalError(.unusable, "\(error)")
    }
    return TerminalStore(db: db, path: path)
  }

  public func identity() throws -> TerminalIdentity {
    guard
      let identity = try db.fetchOne(
        "SELECT terminal, unit, central, private_key, public_key, created_at FROM identity WHERE id = 1",
        map: { row in
          TerminalIdentity(
            terminal: row.text(0), unit: row.text(1), central: row.text(2), privateKey: row.blob(3),
            publicKey: row.blob(4),
            createdAt: Timestamp(iso: row.text(5)) ?? Timestamp(secondsSinceEpoch: 0))
        })
    else { throw TerminalError(.unusable, "\(path) has no terminal identity") }
    return identity
  }

  public func syncState() throws -> SyncState {
    try db.fetchOne(
      "SELECT cursor, central_latest, last_attempt_at, last_success_at, last_error FROM sync_state WHERE id = 1"
    ) { row in
      SyncState(
        cursor: row.int64(0), centralLatest: row.int64(1),
        lastAttemptAt: row.optionalText(2).flatMap { Timestamp(iso: $0) },
        lastSuccessAt: row.optionalText(3).flatMap { Timestamp(iso: $0) },
        lastError: row.optionalText(4))
    }!
  }

  // MARK: - Applying pulled changes

  /// Applies one batch and moves the cursor to its last change, in one transaction: a
  /// crash leaves either the whole batch and its cursor, or neither.
  /// Applies a page of changes in order. A last page (`hasMore` false) moves the cursor to
  /// central's newest number: central leaves out entries meant for other terminals, so
  /// there is nothing more for this one up to there.
  public func apply(_ batch: ChangesResponse, at now: Timestamp) throws {
    let decoder = JSONDecoder()
    /// The batch's last change, after checking that its changes follow the cursor in order.
    func last() throws -> Int64 {
      var last = try syncState().cursor
      for change in batch.changes {
        guard change.seq > last else {
          throw TerminalError(
            .protocolViolation,
            "central sent change \(change.seq) after \(last); changes must arrive in increasing order after the cursor"
          )
        }
        last = change.seq
      }
      return last
    }
    func moveCursor(to last: Int64) throws {
      try db.execute(
        """
        UPDATE sync_state SET cursor = ?, central_latest = ?, last_attempt_at = ?, last_success_at = ?,
          last_error = NULL WHERE id = 1
        """, batch.hasMore ? last : max(batch.latest, last), max(batch.latest, last),
        now.description, now.description)
    }
    if mutant == .cursorOutsideTransaction {
      // The bug: the cursor commits on its own, before the changes it covers.
      try moveCursor(to: try last())
      try db.transaction {
        for change in batch.changes { try apply(change, decoder: decoder) }
      }
      return
    }
    try db.transaction {
      let last = try last()
      for change in batch.changes { try apply(change, decoder: decoder) }
      try moveCursor(to: last)
    }
  }

  /// Central answered a `pin_change` record: from now on its notices of the officer apply
  /// (after a refusal it sends this terminal the PIN in force). The outbox keeps the record
  /// without the hash it carried.
  func acknowledgedPINChange(recordID: String) throws {
    guard
      let payload = try db.fetchOne(
        "SELECT payload FROM outbox WHERE record_id = ? AND kind = 'pin_change'", recordID,
        map: { $0.text(0) }),
      let change = try? JSONDecoder().decode(PINChangeRecord.self, from: Data(payload.utf8))
    else { return }
    try db.execute("UPDATE officers SET pin_pending = 0 WHERE id = ?", change.officer)
    try db.execute(
      "UPDATE outbox SET payload = json_remove(payload, '$.pinHash') WHERE record_id = ?", recordID)
  }

  /// Notes a failed pull (the cursor stays where it was).
  public func recordSyncFailure(_ message: String, at now: Timestamp) throws {
    try db.execute(
      "UPDATE sync_state SET last_attempt_at = ?, last_error = ? WHERE id = 1", now.description,
      message)
  }

  private func apply(_ change: WireChange, decoder: JSONDecoder) throws {
    let payload = Data(change.payload.utf8)
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
      do {
        return try decoder.decode(type, from: payload)
      } catch {
        throw TerminalError(
          .protocolViolation,
          "central's change \(change.seq) (\(change.entity) \(change.key)) has a payload this terminal cannot read: \(error)"
        )
      }
    }
    let delete = change.op == .delete
    switch change.entity {
    case .licence:
      if delete {
        try db.execute("DELETE FROM licences WHERE number = ?", change.key)
        return
      }
      // The fast reader covers what central writes; the decoder handles (and explains) the rest.
      let row = try LicencePayloadReader.read(change.payload) ?? LicenceRow(decode(Licence.self))
      guard row.number == change.key else {
        throw TerminalError(
          .protocolViolation,
          "central's change \(change.seq) is keyed \(change.key) but carries licence \(row.number)")
      }
      // The mutant keeps the status a cached licence had.
      let status =
        mutant == .statusNotCached
        ? (try db.fetchOne(
          "SELECT status FROM licences WHERE number = ?", row.number, map: { $0.text(0) })
          ?? row.status) : row.status
      try db.execute(
        """
        INSERT OR REPLACE INTO licences (number, name, gender, birth, first_issued, classes, term,
          valid_from, authority, status, epoch, suspended_until)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """, row.number, row.name, row.gender, row.birth, row.firstIssued, row.classes, row.term,
        row.validFrom, row.authority, status, row.epoch, row.suspendedUntil)
    case .vehicle:
      if delete {
        try db.execute("DELETE FROM vehicles WHERE plate = ?", change.key)
        return
      }
      let v = try decode(WireVehicle.self)
      try db.execute(
        "INSERT OR REPLACE INTO vehicles (plate, class, owner) VALUES (?, ?, ?)", v.plate,
        v.vehicleClass, v.owner)
    case .officer:
      if delete {
        try db.execute("DELETE FROM officers WHERE id = ?", change.key)
        return
      }
      let o = try decode(OfficerNotice.self)
      // A PIN chosen here and not yet acknowledged by central stays until central answers.
      try db.execute(
        """
        INSERT INTO officers (id, name, unit, pin_hash, unlock_generation, pin_must_change,
          pin_set_at, locked_at, locked_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, unit = excluded.unit,
          unlock_generation = excluded.unlock_generation, locked_at = excluded.locked_at,
          locked_on = excluded.locked_on,
          pin_hash = CASE WHEN officers.pin_pending THEN officers.pin_hash ELSE excluded.pin_hash END,
          pin_must_change = CASE WHEN officers.pin_pending
            THEN officers.pin_must_change ELSE excluded.pin_must_change END,
          pin_set_at = CASE WHEN officers.pin_pending
            THEN officers.pin_set_at ELSE excluded.pin_set_at END
        """, o.id, o.name, o.unit, o.pinVerifier, o.unlockGeneration, o.pinMustChange,
        o.pinSetAt?.description, o.lockedAt?.description, o.lockedOn)
      // Central unlocked the officer: forget failed attempts counted before.
      try db.execute(
        "DELETE FROM lockouts WHERE officer = ? AND unlock_generation < ?", o.id, o.unlockGeneration
      )
    case .terminal:
      if delete {
        try db.execute("DELETE FROM terminals WHERE id = ?", change.key)
        return
      }
      let t = try decode(TerminalState.self)
      try db.execute(
        "INSERT OR REPLACE INTO terminals (id, status, public_key) VALUES (?, ?, ?)", t.id,
        t.status.rawValue,
        t.publicKey)
    case .offence:
      if delete {
        try db.execute("DELETE FROM offences WHERE code = ?", change.key)
        return
      }
      _ = try decode(Offence.self)
      try db.execute(
        "INSERT OR REPLACE INTO offences (code, body) VALUES (?, ?)", change.key, change.payload)
    case .points:
      if delete {
        try db.execute("DELETE FROM points WHERE licence = ?", change.key)
        return
      }
      _ = try decode(PointsLedger.self)
      try db.execute(
        "INSERT OR REPLACE INTO points (licence, ledger) VALUES (?, ?)", change.key, change.payload)
    case .mandate:
      if delete {
        try db.execute("DELETE FROM mandates WHERE licence = ?", change.key)
        return
      }
      let m = try decode(MandateNotice.self)
      try db.execute(
        "INSERT OR REPLACE INTO mandates (licence, bank, account_tail, active) VALUES (?, ?, ?, ?)",
        m.licence.value, m.bank, m.accountTail, m.revokedOn == nil)
    case .decision:
      if delete {
        try db.execute("DELETE FROM decisions WHERE number = ?", change.key)
        return
      }
      let d = try decode(StoredDecision.self)
      try db.execute(
        """
        INSERT OR REPLACE INTO decisions (number, licence, offence, decided_on, fine_fen, points, paid, state)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """, d.number, d.licence.value, d.offence, d.decidedOn.daysSinceEpoch, d.fine.fen, d.points,
        d.paid,
        d.state.rawValue)
    case .violation:
      if delete {
        try db.execute("DELETE FROM violations WHERE record_id = ?", change.key)
        return
      }
      let v = try decode(StoredViolation.self)
      try db.execute(
        "INSERT OR REPLACE INTO violations (record_id, terminal, licence, body, state) VALUES (?, ?, ?, ?, ?)",
        v.recordID, v.terminal, v.violation.licence, change.payload, v.state.rawValue)
    case .numberRange:
      let range = try decode(NumberRange.self)
      guard range.terminal == (try identity().terminal) else { return }
      if delete {
        // Retired by a reset at central: numbers a previous device may have used.
        try db.execute(
          "DELETE FROM number_ranges WHERE region = ? AND year = ? AND first = ?", range.region,
          range.year, range.first)
        return
      }
      // A range arrives once; replays of the change leave `next` where the terminal is.
      try db.execute(
        """
        INSERT INTO number_ranges (region, year, first, last, next) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (region, year, first) DO NOTHING
        """, range.region, range.year, range.first, range.last, range.first)
    case .deduction:
      break
    case .calendar:
      _ = try decode(WorkingCalendar.self)
      try db.execute(
        "INSERT INTO calendar (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        change.payload)
    case .issuerKey:
      if delete {
        try db.execute("DELETE FROM issuer_keys WHERE kid = ?", change.key)
        return
      }
      let k = try decode(IssuerKey.self)
      try db.execute(
        "INSERT OR REPLACE INTO issuer_keys (kid, public_key, valid_from, valid_until, state) VALUES (?, ?, ?, ?, ?)",
        k.kid, k.publicKey, k.validFrom.secondsSinceEpoch, k.validUntil.secondsSinceEpoch,
        k.state.rawValue)
    case .conflict:
      if delete {
        try db.execute("DELETE FROM conflicts WHERE id = ?", change.key)
        return
      }
      let c = try decode(ConflictReport.self)
      try storeConflict(c, body: change.payload)
    }
  }

  /// The holiday calendar central synced; before the first sync, Monday to Friday (the
  /// reporting deadline then counts no holidays, and central's own count prevails).
  public func calendar() throws -> WorkingCalendar {
    guard let body = try db.fetchOne("SELECT body FROM calendar WHERE id = 1", map: { $0.text(0) })
    else { return WorkingCalendar() }
    return try JSONDecoder().decode(WorkingCalendar.self, from: Data(body.utf8))
  }

  func storeConflict(_ c: ConflictReport, body: String) throws {
    try db.execute(
      """
      INSERT INTO conflicts (id, terminal, kind, body, detected_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET body = excluded.body
      """, c.id, c.terminal, c.kind.rawValue, body, c.detectedAt.description)
  }

  // MARK: - Reading the cache

  public func licence(_ number: LicenceNumber) throws -> CachedLicence? {
    try db.fetchOne(
      """
      SELECT number, name, gender, birth, first_issued, classes, term, valid_from, authority, status,
        epoch, suspended_until FROM licences WHERE number = ?
      """, number.value
    ) { row in
      CachedLicence(
        number: number, name: row.text(1), gender: row.int(2) == 1 ? .male : .female,
        birthDate: LocalDate(daysSinceEpoch: row.int(3)),
        firstIssued: LocalDate(daysSinceEpoch: row.int(4)),
        classes: try LicenceClass.parseList(row.text(5)),
        validity: Validity(
          term: ValidityTerm(rawValue: row.text(6)) ?? .sixYears,
          from: LocalDate(daysSinceEpoch: row.int(7))),
        authority: row.text(8), status: try LicenceStatus(code: row.text(9)), epoch: row.int(10),
        suspendedUntil: row.optionalInt(11).map { LocalDate(daysSinceEpoch: $0) })
    }
  }

  /// The cached ledger with every cycle that ended by `today` closed, as central closes it
  /// when it next reads the ledger (公安部令第163号 §15).
  public func pointsLedger(_ number: LicenceNumber, firstIssued: LocalDate, asOf today: LocalDate)
    throws -> PointsLedger
  {
    guard
      let text = try db.fetchOne(
        "SELECT ledger FROM points WHERE licence = ?", number.value, map: { $0.text(0) })
    else { return PointsLedger(firstIssued: firstIssued) }
    var ledger = try JSONDecoder().decode(PointsLedger.self, from: Data(text.utf8))
    _ = ledger.closeCycles(through: today)
    return ledger
  }

  public func decisions(_ number: LicenceNumber) throws -> [CachedDecision] {
    try db.fetchAll(
      "SELECT number, offence, decided_on, fine_fen, points, paid, state FROM decisions WHERE licence = ? ORDER BY decided_on, number",
      number.value
    ) { row in
      CachedDecision(
        number: row.text(0), offence: row.text(1), decidedOn: LocalDate(daysSinceEpoch: row.int(2)),
        fine: Money(fen: row.int64(3)), points: row.int(4), paid: row.bool(5),
        state: try row.value(6))
    }
  }

  public func vehiclePlates(ownedBy number: LicenceNumber) throws -> [String] {
    try db.fetchAll("SELECT plate FROM vehicles WHERE owner = ? ORDER BY plate", number.value) {
      $0.text(0)
    }
  }

  public func terminalStatus(_ id: String) throws -> TerminalStatus? {
    try db.fetchOne("SELECT status FROM terminals WHERE id = ?", id) { try $0.value(0) }
  }

  /// The trusted issuer keys, as synced.
  public func issuerKeys() throws -> [IssuerKey] {
    try db.fetchAll(
      "SELECT kid, public_key, valid_from, valid_until, state FROM issuer_keys ORDER BY kid"
    ) { row in
      IssuerKey(
        kid: row.text(0), publicKey: row.blob(1),
        validFrom: Timestamp(secondsSinceEpoch: row.int64(2)),
        validUntil: Timestamp(secondsSinceEpoch: row.int64(3)), state: try row.value(4))
    }
  }

  /// Row counts of the cache, for status and tests.
  public func counts() throws -> [String: Int] {
    var result: [String: Int] = [:]
    for table in [
      "licences", "vehicles", "points", "decisions", "mandates", "officers", "offences",
      "terminals",
    ] {
      result[table] = try db.fetchOne("SELECT count(*) FROM \(table)") { $0.int(0) } ?? 0
    }
    return result
  }

  /// The oldest records still waiting for an acknowledgement, in the terminal's order.
  public func pendingRecords(limit: Int) throws -> [PushRecord] {
    try db.fetchAll(
      "SELECT seq, record_id, kind, created_at, payload FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?",
      limit
    ) { row in
      PushRecord(
        recordID: row.text(1), kind: row.text(2), terminalSeq: row.int64(0),
        createdAt: Timestamp(iso: row.text(3)) ?? Timestamp(secondsSinceEpoch: 0),
        payload: row.text(4))
    }
  }

  public func outboxDepth() throws -> Int {
    try db.fetchOne("SELECT count(*) FROM outbox WHERE state = 'pending'") { $0.int(0) } ?? 0
  }

  /// Open conflicts involving this terminal.
  public func openConflicts() throws -> Int {
    try db.fetchOne(
      "SELECT count(*) FROM conflicts WHERE open = 1 AND terminal = (SELECT terminal FROM identity)"
    ) { $0.int(0) } ?? 0
  }

  /// Conflicts central reported, this terminal's or all.
  public func conflicts(all: Bool) throws -> [ConflictReport] {
    let decoder = JSONDecoder()
    return try db.fetchAll(
      """
      SELECT body FROM conflicts WHERE ?1 OR terminal = (SELECT terminal FROM identity)
      ORDER BY detected_at, id
      """, all
    ) { try decoder.decode(ConflictReport.self, from: Data($0.text(0).utf8)) }
  }

  /// Violations of a licence not yet decided: relayed by central, and this terminal's
  /// own still waiting in the outbox.
  public func pendingViolations(_ number: LicenceNumber) throws -> [ViolationRecord] {
    let decoder = JSONDecoder()
    var result = try db.fetchAll(
      "SELECT body FROM violations WHERE licence = ? AND state = 'pending'", number.value
    ) { try decoder.decode(StoredViolation.self, from: Data($0.text(0).utf8)).violation }
    let own = try db.fetchAll(
      "SELECT payload FROM outbox WHERE kind = 'violation' AND state = 'pending'"
    ) { try decoder.decode(ViolationRecord.self, from: Data($0.text(0).utf8)) }
    result += own.filter { $0.licence == number.value }
    return result.sorted { $0.at < $1.at }
  }

  public func integrityCheck() throws -> [String] { try db.integrityCheck() }

  /// A power cut in the middle of an operation, for the simulation: the next `commits`
  /// commits of this file go through, every later one is rolled back as if the process had
  /// died at it (``Connection/failCommits(after:)``). Reopen the file to live again.
  public func failCommits(after commits: Int) { db.failCommits(after: commits) }

  /// The file's size after folding the WAL into it (bytes).
  public func checkpointedSize() throws -> Int {
    try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    let pages = try db.pragmaInt("page_count") - db.pragmaInt("freelist_count")
    return pages * (try db.pragmaInt("page_size"))
  }
}

// The vehicle payload as the terminal reads it: central writes the fixtures' `VehicleRecord`,
// which this module does not link; the other payloads are `RoadsideProtocol`'s.
struct WireVehicle: Decodable {
  let plate: String
  let vehicleClass: String
  let owner: String
}
