import RoadsideDomain
import RoadsideProtocol
import RoadsideStorage

/// What one PostgreSQL write transaction holds back until it ends, and what it has read
/// once and need not read again (``PostgresCentralStore``).
///
/// Every statement costs a round trip to the server, and a push used to run about five for
/// each check record it carried (BENCHMARKS.md, "Fewer statements a push"). Held back, a
/// batch's rows go in a few multi-row statements:
///
/// - **Change-log entries.** The change-log lock (``Access/lockChangeLog()``) is what keeps
///   a pulling cursor from passing a sequence number a slower transaction still holds, and
///   it is held from the first entry to the commit. Inserting a transaction's entries at
///   its end makes that span the insert and the commit alone, so concurrent pushes do their
///   checks and record inserts at once and take turns only to log. Reads of the change log
///   insert what is buffered first (``Access/flushChangeLog()``), so a transaction always
///   sees its own entries.
/// - **Rows**: records, audit entries and session updates. They are inserted before any
///   other statement of the transaction runs (``BufferedDatabase``), so every query sees
///   them and every constraint is checked in the same transaction; only the reads named
///   in ``Access`` as not touching those tables (``Access/raw``) let them wait.
/// - **Remembered rows**: officers and terminal sessions, read once per transaction. A
///   statement that may write or lock (anything but a plain, non-locking `SELECT`) forgets
///   them, so a write that may change them, or a lock that may have waited for another
///   transaction's change, is followed by a fresh read; a plain `SELECT` keeps them. Within
///   one push an officer is therefore what it was when the push first read it, as under
///   one snapshot.
final class WriteBuffer {
  struct ChangeLogEntry {
    let change: NewChange
    let at: Timestamp
    let action: String
    let reason: String?
  }

  var changeLog: [ChangeLogEntry] = []
  var records: [StoredRecord] = []
  var auditEntries: [(entry: AuditEntry, recordID: String)] = []
  /// Sessions saved and not yet written.
  var savedSessions: [String: TerminalSession] = [:]
  /// Sessions as the transaction last read or saved them (nil: the terminal has none).
  var sessions: [String: TerminalSession?] = [:]
  var officers: [String: OfficerState?] = [:]

  /// Up to 500 rows a statement: PostgreSQL takes up to 65,535 parameters a statement,
  /// and the widest row here has 12.
  static let rowsPerStatement = 500

  var holdsRows: Bool { !records.isEmpty || !auditEntries.isEmpty || !savedSessions.isEmpty }

  /// Drops everything: the transaction (or savepoint) it belonged to was rolled back.
  func discard() {
    changeLog.removeAll()
    records.removeAll()
    auditEntries.removeAll()
    savedSessions.removeAll()
    forget()
  }

  /// Forgets the remembered rows (not what is held back).
  func forget() {
    sessions.removeAll()
    officers.removeAll()
  }

  /// Inserts the held-back rows, records first (audit entries refer to them).
  func flushRows(into db: any SQLDatabase) throws {
    guard holdsRows else { return }
    let (records, audits, sessions) = (self.records, auditEntries, savedSessions)
    self.records.removeAll()
    auditEntries.removeAll()
    savedSessions.removeAll()
    try Self.insert(
      records, into: db,
      head: "INSERT INTO records (\(Access.recordColumns)) VALUES ",
      row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ) { _, r in
      [
        .text(r.recordID), .text(r.terminal), .integer(r.terminalSeq), .text(r.kind),
        .text(r.createdAt.description), .text(r.receivedAt.description), .text(r.payload),
        .text(r.outcome.rawValue), r.reason.map(SQLValue.text) ?? .null,
        r.conflictID.map(SQLValue.text) ?? .null,
      ]
    }
    try Self.insert(
      audits, into: db,
      head: """
        INSERT INTO audit_entries (terminal, device, seq, at, officer, action, subject, result,
          previous_hash, hash, record_id, proof)
        SELECT v.terminal, (SELECT device FROM terminals WHERE id = v.terminal), v.seq, v.at,
          v.officer, v.action, v.subject, v.result, v.previous_hash, v.hash, v.record_id,
          v.proof
        FROM (VALUES
        """,
      row: "(?, CAST(? AS BIGINT), ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS BIGINT))",
      tail: """
        ) AS v (terminal, seq, at, officer, action, subject, result, previous_hash, hash,
          record_id, proof, ord)
        ORDER BY v.ord
        """
    ) { index, item in
      let e = item.entry
      return [
        .text(e.terminal), .integer(e.seq), .text(e.at.description), .text(e.officer),
        .text(e.action), .text(e.subject), .text(e.result), .text(e.previousHash),
        .text(e.hash), .text(item.recordID), e.proof.map(SQLValue.text) ?? .null,
        .integer(Int64(index)),
      ]
    }
    try Self.insert(
      sessions.values.sorted { $0.terminal < $1.terminal }, into: db,
      head:
        "INSERT INTO terminal_sessions (terminal, officer, started_at, last_activity_at) VALUES ",
      row: "(?, ?, ?, ?)",
      tail: """
         ON CONFLICT (terminal) DO UPDATE SET officer = excluded.officer,
          started_at = excluded.started_at, last_activity_at = excluded.last_activity_at
        """
    ) { _, s in
      [
        .text(s.terminal), .text(s.officer), .text(s.startedAt.description),
        .text(s.lastActivityAt.description),
      ]
    }
  }

  /// Inserts `rows` in statements of up to ``rowsPerStatement`` rows: `head`, then `row`
  /// once per row, then `tail`; `values` gives a row's parameters from its position and
  /// itself. A multi-row VALUES list is inserted in its order.
  static func insert<T>(
    _ rows: [T], into db: any SQLDatabase, head: String, row: String, tail: String = "",
    values: (Int, T) -> [SQLValue]
  ) throws {
    for start in stride(from: 0, to: rows.count, by: rowsPerStatement) {
      let end = min(rows.count, start + rowsPerStatement)
      try db.execute(
        head + Array(repeating: row, count: end - start).joined(separator: ", ") + tail,
        arguments: (start..<end).flatMap { values($0, rows[$0]) })
    }
  }
}

/// The connection of a PostgreSQL write transaction as ``Access`` sees it: every statement
/// first inserts the rows the transaction holds back (``WriteBuffer``), and every statement
/// but a plain, non-locking `SELECT` (``onlyReads(_:)``) forgets the rows it remembers, so
/// no query can miss a held-back row and no write or lock can leave a remembered one stale.
final class BufferedDatabase: SQLDatabase {
  let base: any SQLDatabase
  let buffer: WriteBuffer

  init(base: any SQLDatabase, buffer: WriteBuffer) {
    self.base = base
    self.buffer = buffer
  }

  var dialect: SQLDialect { base.dialect }

  /// Inserts what is held back; forgets the remembered rows unless `sql` only reads.
  private func settle(before sql: String) throws {
    try buffer.flushRows(into: base)
    if !Self.onlyReads(sql) { buffer.forget() }
  }

  /// Whether `sql` is a plain `SELECT`, which changes no row. Anything else — `INSERT …
  /// RETURNING`, a `WITH` that may hold a `DELETE` — may write. A locking `SELECT … FOR
  /// UPDATE` (or `NO KEY UPDATE`, `SHARE`, `KEY SHARE`) counts as a write: at READ
  /// COMMITTED it may wait for another transaction and then see a newer row than the one
  /// remembered.
  static func onlyReads(_ sql: String) -> Bool {
    let start = sql.drop { $0.isWhitespace }.prefix(7).uppercased()
    guard start == "SELECT " || start == "SELECT\n" else { return false }
    let text = sql.uppercased()
    return !["FOR UPDATE", "FOR NO KEY UPDATE", "FOR SHARE", "FOR KEY SHARE"].contains {
      text.contains($0)
    }
  }

  @discardableResult
  func execute<each V: SQLiteBindable>(_ sql: String, _ values: repeat each V) throws -> Int {
    try settle(before: sql)
    return try base.execute(sql, repeat each values)
  }

  func fetchAll<T, each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, map: (Row) throws -> T
  ) throws -> [T] {
    try settle(before: sql)
    return try base.fetchAll(sql, repeat each values, map: map)
  }

  func fetchOne<T, each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, map: (Row) throws -> T
  ) throws -> T? {
    try settle(before: sql)
    return try base.fetchOne(sql, repeat each values, map: map)
  }

  @discardableResult
  func execute(_ sql: String, arguments: [SQLValue]) throws -> Int {
    try settle(before: sql)
    return try base.execute(sql, arguments: arguments)
  }

  func fetchAll<T>(_ sql: String, arguments: [SQLValue], map: (Row) throws -> T) throws -> [T] {
    try settle(before: sql)
    return try base.fetchAll(sql, arguments: arguments, map: map)
  }
}
