import Foundation
import RoadsideDomain
import RoadsideProtocol
import RoadsideStorage

// The SQLite store's part of the Access interface.

extension Access: CentralAccessStore {
  func enrolment(terminal: String) throws -> Enrolment? {
    try db.fetchOne(
      "SELECT terminal, code_hash, issued_at, expires_at, used_at FROM enrolments WHERE terminal = ?",
      terminal
    ) {
      Enrolment(
        terminal: $0.text(0), codeHash: $0.text(1), issuedAt: Timestamp(iso: $0.text(2))!,
        expiresAt: Timestamp(iso: $0.text(3))!,
        usedAt: $0.optionalText(4).flatMap { Timestamp(iso: $0) })
    }
  }

  func save(_ e: Enrolment) throws {
    try db.execute(
      """
      INSERT INTO enrolments (terminal, code_hash, issued_at, expires_at, used_at)
      VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (terminal) DO UPDATE SET code_hash = excluded.code_hash,
        issued_at = excluded.issued_at, expires_at = excluded.expires_at, used_at = excluded.used_at
      """, e.terminal, e.codeHash, e.issuedAt.description, e.expiresAt.description,
      e.usedAt?.description)
  }

  func insertNonce(terminal: String, nonce: String, at: Timestamp) throws -> Bool {
    try db.execute(
      "INSERT INTO request_nonces (terminal, nonce, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      terminal, nonce, at.description) == 1
  }

  func purgeNonces(before: Timestamp) throws {
    try db.execute("DELETE FROM request_nonces WHERE at < ?", before.description)
  }

  func retireRanges(terminal: String, at: Timestamp) throws -> [NumberRange] {
    let live = try numberRanges(terminal: terminal)
    try db.execute(
      "UPDATE number_ranges SET retired_at = ? WHERE terminal = ? AND retired_at IS NULL",
      at.description, terminal)
    return live
  }
}
