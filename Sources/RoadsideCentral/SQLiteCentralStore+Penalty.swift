import Crypto
import Foundation
import RoadsideBankProtocol
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideStorage

// The SQLite store's part of the Penalty interface.

extension Access: CentralPenaltyStore {
  func numberRanges(terminal: String) throws -> [NumberRange] {
    try db.fetchAll(
      "SELECT terminal, region, year, first, last FROM number_ranges WHERE terminal = ? AND retired_at IS NULL ORDER BY year, first",
      terminal
    ) {
      NumberRange(
        terminal: $0.text(0), region: $0.text(1), year: $0.int(2), first: $0.int(3),
        last: $0.int(4))
    }
  }

  func highestSerial(region: String, year: Int) throws -> Int {
    try lockChangeLog()  // two nodes allocating ranges at once must not read the same highest
    let prefix = region + String(year)
    let allocated =
      try db.fetchOne(
        "SELECT coalesce(max(last), 0) FROM number_ranges WHERE region = ? AND year = ?", region,
        year
      ) { $0.int(0) } ?? 0
    let decided =
      try db.fetchOne(
        "SELECT coalesce(max(CAST(substr(number, 11) AS INTEGER)), 0) FROM decisions WHERE substr(number, 1, 10) = ?",
        prefix
      ) { $0.int(0) } ?? 0
    return max(allocated, decided)
  }

  func insert(_ range: NumberRange, at: Timestamp) throws {
    try db.execute(
      "INSERT INTO number_ranges (terminal, region, year, first, last, allocated_at) VALUES (?, ?, ?, ?, ?, ?)",
      range.terminal, range.region, range.year, range.first, range.last, at.description)
  }

  func document(_ number: String) throws -> (document: PenaltyDocument, state: DocumentState)? {
    try db.fetchOne("SELECT body, state FROM documents WHERE number = ?", number) {
      (try JSONDecoder().decode(PenaltyDocument.self, from: Data($0.text(0).utf8)), try $0.value(1))
    }
  }

  func insertDocument(_ document: PenaltyDocument, recordID: String, state: DocumentState)
    throws
  {
    try db.execute(
      "INSERT INTO documents (number, terminal, record_id, kind, licence, body, state, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      document.number, document.terminal, recordID, document.kind.rawValue, document.licence,
      try CanonicalJSON.string(document), state.rawValue, document.at.description)
  }

  func setDocumentState(_ number: String, _ state: DocumentState) throws {
    try db.execute("UPDATE documents SET state = ? WHERE number = ?", state.rawValue, number)
  }

  func decision(_ number: String) throws -> StoredDecision? {
    try db.fetchOne(
      "SELECT number, licence, plate, offence, decided_on, fine_fen, points, paid, place, state FROM decisions WHERE number = ?",
      number
    ) { row in
      StoredDecision(
        number: row.text(0), licence: try CitizenID(row.text(1)), plate: row.optionalText(2),
        offence: row.text(3), decidedOn: LocalDate(iso: row.text(4))!,
        fine: Money(fen: row.int64(5)), points: row.int(6), paid: row.bool(7), place: row.text(8),
        state: try row.value(9))
    }
  }

  func setDecision(_ number: String, paid: Bool, state: DecisionState) throws {
    try db.execute(
      "UPDATE decisions SET paid = ?, state = ? WHERE number = ?", paid, state.rawValue, number)
  }

  static let deductionColumns = """
    decision, licence, bank, account, fine_fen, served_on, amount_fen, state, reason, attempts,
    updated_at, settled_at, reversed_at
    """

  func deductionRow(_ row: Row) throws -> Deduction {
    Deduction(
      decision: row.text(0), licence: row.text(1), bank: row.text(2), account: row.text(3),
      fine: Money(fen: row.int64(4)), servedOn: LocalDate(iso: row.text(5))!,
      amount: row.optionalInt(6).map { Money(fen: Int64($0)) }, state: try row.value(7),
      reason: row.optionalText(8), attempts: row.int(9),
      updatedAt: Timestamp(iso: row.text(10))!,
      settledAt: row.optionalText(11).flatMap { Timestamp(iso: $0) },
      reversedAt: row.optionalText(12).flatMap { Timestamp(iso: $0) })
  }

  func deduction(_ decision: String) throws -> Deduction? {
    try db.fetchOne(
      "SELECT \(Access.deductionColumns) FROM deductions WHERE decision = ?", decision
    ) { try deductionRow($0) }
  }

  func insertDeduction(
    decision: String, licence: String, bank: String, account: String, fine: Money,
    servedOn: LocalDate, at: Timestamp
  ) throws {
    try db.execute(
      "INSERT INTO deductions (decision, licence, bank, account, fine_fen, served_on, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
      decision, licence, bank, account, fine.fen, servedOn.description, at.description)
  }

  func updateDeduction(
    _ decision: String, state: DeductionState, reason: String?, amount: Money?, attempt: Bool,
    at: Timestamp
  ) throws {
    try db.execute(
      """
      UPDATE deductions SET state = ?1, reason = ?2, amount_fen = ?3,
        attempts = attempts + ?4, updated_at = ?5,
        settled_at = CASE WHEN ?1 = 'settled' THEN ?5 ELSE settled_at END,
        settled_day = CASE WHEN ?1 = 'settled' THEN ?6 ELSE settled_day END,
        reversed_at = CASE WHEN ?1 = 'reversed' THEN ?5 ELSE reversed_at END,
        reversed_day = CASE WHEN ?1 = 'reversed' THEN ?6 ELSE reversed_day END
      WHERE decision = ?7
      """, state.rawValue, reason, amount?.fen, attempt ? 1 : 0, at.description,
      at.chinaDate.description,
      decision)
  }

  func deductions(states: [DeductionState]) throws -> [Deduction] {
    try allDeductions().filter { states.contains($0.state) }
  }

  func allDeductions() throws -> [Deduction] {
    try db.fetchAll("SELECT \(Access.deductionColumns) FROM deductions ORDER BY decision") {
      try deductionRow($0)
    }
  }
}
