import Foundation
public import RoadsideDomain
public import RoadsideProtocol
import RoadsideStorage

/// What a login on this terminal reads of an officer: the PIN verifier central bound to the
/// terminal, the unlock generation, whether the PIN is initial, central's lock, and the PIN
/// version (`pin_set_at`, `-` for the first).
struct OfficerLogin {
  let verifier: String?
  let unlockGeneration: Int
  let mustChangePIN: Bool
  let lockedAt: String?
  let lockedOn: String?
  let pinVersion: String
}

// The terminal store's part of officers, sessions, the audit log and the outbox.

extension TerminalStore {
  func setUnit(_ unit: String) throws {
    try db.execute("UPDATE identity SET unit = ? WHERE id = 1", unit)
  }

  func officerLogin(_ officer: String) throws -> OfficerLogin? {
    try db.fetchOne(
      """
      SELECT pin_hash, unlock_generation, pin_must_change, locked_at, locked_on,
        coalesce(pin_set_at, '-') FROM officers WHERE id = ?
      """, officer
    ) {
      OfficerLogin(
        verifier: $0.optionalText(0), unlockGeneration: $0.int(1), mustChangePIN: $0.bool(2),
        lockedAt: $0.optionalText(3), lockedOn: $0.optionalText(4), pinVersion: $0.text(5))
    }
  }

  func mustChangePIN(officer: String) throws -> Bool {
    try db.fetchOne("SELECT pin_must_change FROM officers WHERE id = ?", officer) { $0.bool(0) }
      ?? false
  }

  /// Wrong PINs in a row for `officer` on this terminal since central's unlock `generation`.
  func wrongPINs(officer: String, since generation: Int) throws -> Int {
    try db.fetchOne(
      "SELECT failures FROM lockouts WHERE officer = ? AND unlock_generation >= ?", officer,
      generation
    ) { $0.int(0) } ?? 0
  }

  /// Counts one more wrong PIN (the first after an unlock counts from 1 again).
  func countWrongPIN(officer: String, generation: Int) throws {
    try db.execute(
      """
      INSERT INTO lockouts (officer, failures, unlock_generation) VALUES (?, 1, ?)
      ON CONFLICT (officer) DO UPDATE SET
        failures = CASE WHEN unlock_generation < excluded.unlock_generation THEN 1 ELSE failures + 1 END,
        unlock_generation = excluded.unlock_generation
      """, officer, generation)
  }

  /// A good login: the wrong PINs are forgotten and `officer` holds the session.
  func startSession(officer: String, at now: Timestamp) throws {
    try db.execute("DELETE FROM lockouts WHERE officer = ?", officer)
    try db.execute(
      """
      INSERT INTO session (id, officer, started_at, last_activity_at) VALUES (1, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET officer = excluded.officer, started_at = excluded.started_at,
        last_activity_at = excluded.last_activity_at
      """, officer, now.description, now.description)
  }

  /// A PIN the officer chose here, pending until central acknowledges the change (central's
  /// notices do not replace it meanwhile).
  func setChosenPIN(officer: String, verifier: String, at now: Timestamp) throws {
    try db.execute(
      """
      UPDATE officers SET pin_hash = ?, pin_must_change = 0, pin_set_at = ?, pin_pending = 1
      WHERE id = ?
      """, verifier, now.description, officer)
  }

  /// The session's officer and last activity, whatever its age.
  func session() throws -> (officer: String, lastActivity: Timestamp)? {
    try db.fetchOne("SELECT officer, last_activity_at FROM session WHERE id = 1") {
      ($0.text(0), Timestamp(iso: $0.text(1)) ?? Timestamp(secondsSinceEpoch: 0))
    }
  }

  func touchSession(at now: Timestamp) throws {
    try db.execute("UPDATE session SET last_activity_at = ? WHERE id = 1", now.description)
  }

  func endSession() throws { try db.execute("DELETE FROM session WHERE id = 1") }

  /// The newest audit entry, or nil for an empty log.
  func lastAuditEntry() throws -> AuditEntry? {
    let terminal = try identity().terminal
    return try db.fetchOne(
      "SELECT seq, at, officer, action, subject, result, previous_hash, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
    ) { row in
      AuditEntry(
        seq: row.int64(0), terminal: terminal, at: Timestamp(iso: row.text(1))!,
        officer: row.text(2),
        action: row.text(3), subject: row.text(4), result: row.text(5), previousHash: row.text(6),
        hash: row.text(7))
    }
  }

  func insert(_ entry: AuditEntry) throws {
    try db.execute(
      """
      INSERT INTO audit_log (seq, at, officer, action, subject, result, previous_hash, hash, proof)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      """, entry.seq, entry.at.description, entry.officer, entry.action, entry.subject,
      entry.result,
      entry.previousHash, entry.hash, entry.proof)
  }

  /// The whole audit log, oldest first.
  func auditEntries() throws -> [AuditEntry] {
    let terminal = try identity().terminal
    return try db.fetchAll(
      "SELECT seq, at, officer, action, subject, result, previous_hash, hash, proof FROM audit_log ORDER BY seq"
    ) { row in
      AuditEntry(
        seq: row.int64(0), terminal: terminal, at: Timestamp(iso: row.text(1))!,
        officer: row.text(2),
        action: row.text(3), subject: row.text(4), result: row.text(5), previousHash: row.text(6),
        hash: row.text(7), proof: row.optionalText(8))
    }
  }

  /// Appends a record to the outbox with the next terminal sequence number.
  func appendOutbox(id: String, kind: RecordKind, payload: String, at now: Timestamp) throws {
    try db.execute(
      """
      INSERT INTO outbox (seq, record_id, kind, created_at, payload)
      VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?, ?, ?, ?)
      """, id, kind.rawValue, now.description, payload)
  }

  /// Marks a pending record with central's answer (`state` is never `duplicate`: a duplicate
  /// ends in its first acknowledgement's state).
  func acknowledge(recordID: String, state: RecordOutcome, acknowledgement: String) throws {
    try db.execute(
      "UPDATE outbox SET state = ?, acknowledgement = ? WHERE record_id = ? AND state = 'pending'",
      state.rawValue, acknowledgement, recordID)
  }
}
