import Foundation
public import RoadsideDomain
import RoadsideStorage

// The terminal store's part of stops and their documents: the stops recorded, the documents
// issued and voided, the document numbers central allocated, the synced offence catalogue.

extension TerminalStore {
  /// Runs `body` in one transaction: everything it writes commits together or not at all.
  public func transaction<T>(_ body: () throws -> T) throws -> T {
    try db.transaction { try body() }
  }

  /// An offence of the synced catalogue, or nil when the code is not in it.
  func offence(_ code: String) throws -> Offence? {
    try db.fetchOne("SELECT body FROM offences WHERE code = ?", code) {
      try? JSONDecoder().decode(Offence.self, from: Data($0.text(0).utf8))
    } ?? nil
  }

  /// Records a stop once (its documents each call this with the same id).
  func insertStop(
    _ id: String, at: Timestamp, licence: LicenceNumber, plate: Plate, pointsBefore: Int,
    pointsAfter: Int, withholding: Withholding?, note: String?
  ) throws {
    try db.execute(
      "INSERT OR IGNORE INTO stops (id, at, licence, plate, points_before, points_after, withholding, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      id, at.description, licence.value, plate.value, pointsBefore, pointsAfter,
      try withholding.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }, note)
  }

  /// Records an issued document of `stop`; `points` are those it gives (none for a
  /// certificate), `recordID` the outbox record that carries it to central.
  func insertDocument(_ document: PenaltyDocument, points: Int, recordID: String) throws {
    try db.execute(
      "INSERT INTO documents (number, stop, kind, licence, points, body, record_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
      document.number, document.stop, document.kind.rawValue, document.licence, points,
      String(decoding: try JSONEncoder().encode(document), as: UTF8.self), recordID)
  }

  func voidDocument(_ number: String, reason: String) throws {
    try db.execute(
      "UPDATE documents SET state = ?, void_reason = ? WHERE number = ?",
      IssuedState.voided.rawValue, reason, number)
  }

  /// A document this terminal issued, with the stop it was served at.
  func issuedDocument(_ number: String) throws -> IssuedDocument? {
    guard
      let (body, state, reason, stop) = try db.fetchOne(
        "SELECT body, state, void_reason, stop FROM documents WHERE number = ?", number,
        map: { ($0.text(0), try $0.value(1, as: IssuedState.self), $0.optionalText(2), $0.text(3)) }
      )
    else { return nil }
    let withholding =
      try db.fetchOne(
        "SELECT withholding FROM stops WHERE id = ?", stop, map: { $0.optionalText(0) }) ?? nil
    return IssuedDocument(
      document: try JSONDecoder().decode(PenaltyDocument.self, from: Data(body.utf8)),
      state: state, voidReason: reason,
      withholding: try withholding.map {
        try JSONDecoder().decode(Withholding.self, from: Data($0.utf8))
      },
      servedWith: try db.fetchAll(
        "SELECT number FROM documents WHERE stop = ? AND number <> ? ORDER BY number", stop, number
      ) { $0.text(0) })
  }

  /// The decisions this terminal issued for `licence` and has not voided, with their points.
  func issuedDecisions(_ licence: LicenceNumber) throws -> [(
    number: String, points: Int, document: PenaltyDocument?
  )] {
    try db.fetchAll(
      "SELECT number, points, body FROM documents WHERE licence = ? AND kind = ? AND state = ?",
      licence.value, DocumentKind.decision.rawValue, IssuedState.issued.rawValue
    ) { row in
      (
        row.text(0), row.int(1),
        try? JSONDecoder().decode(PenaltyDocument.self, from: Data(row.text(2).utf8))
      )
    }
  }

  /// Takes the next unused document number of the oldest range that has one, or nil when
  /// every allocated number is used.
  func takeNumber(terminal: String) throws -> String? {
    guard
      let (region, year, first, last, next) = try db.fetchOne(
        "SELECT region, year, first, last, next FROM number_ranges WHERE next <= last ORDER BY year, first LIMIT 1",
        map: { ($0.text(0), $0.int(1), $0.int(2), $0.int(3), $0.int(4)) })
    else { return nil }
    try db.execute(
      "UPDATE number_ranges SET next = next + 1 WHERE region = ? AND year = ? AND first = ?",
      region, year, first)
    return NumberRange(terminal: terminal, region: region, year: year, first: first, last: last)
      .number(next)
  }

  /// Numbers left of those allocated.
  func numbersLeft() throws -> (left: Int, allocated: Int) {
    try db.fetchOne(
      "SELECT coalesce(sum(last + 1 - next), 0), coalesce(sum(last + 1 - first), 0) FROM number_ranges",
      map: { ($0.int(0), $0.int(1)) }) ?? (0, 0)
  }
}
