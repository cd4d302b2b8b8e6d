import Foundation
import RoadsideCredentials
import RoadsideDomain
import RoadsideFixtures
import RoadsideStorage

// The SQLite store's part of the ELicence interface.

extension Access {
  func calendar() throws -> WorkingCalendar {
    let days = try db.fetchAll("SELECT date, kind FROM calendar_days") { row in
      (LocalDate(iso: row.text(0)), row.text(1))
    }
    return WorkingCalendar(
      holidays: Set(days.filter { $0.1 == "holiday" }.compactMap(\.0)),
      workingWeekendDays: Set(days.filter { $0.1 == "workday" }.compactMap(\.0)))
  }

  func storeCalendar(_ days: [CalendarDay]) throws {
    for day in days {
      try db.execute(
        """
        INSERT INTO calendar_days (date, kind, name) VALUES (?, ?, ?)
        ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name
        """,
        day.date.description, day.kind,
        day.name)
    }
  }

  static let applicationColumns = "id, licence, applied_at, ready_at, state, reason"

  func applicationRow(_ row: Row) throws -> ELicenceApplication {
    ELicenceApplication(
      id: row.int(0), licence: try CitizenID(row.text(1)),
      appliedAt: Timestamp(iso: row.text(2)) ?? Timestamp(secondsSinceEpoch: 0),
      readyAt: Timestamp(iso: row.text(3)) ?? Timestamp(secondsSinceEpoch: 0),
      state: try row.value(4),
      reason: row.optionalText(5))
  }

  func pendingApplication(_ number: LicenceNumber) throws -> ELicenceApplication? {
    try db.fetchOne(
      "SELECT \(Access.applicationColumns) FROM elicence_applications WHERE licence = ? AND state = 'pending'",
      number.value
    ) { try applicationRow($0) }
  }

  @discardableResult
  func insertApplication(
    _ number: LicenceNumber, deviceKey: [UInt8], appliedAt: Timestamp, readyAt: Timestamp
  ) throws
    -> ELicenceApplication
  {
    let inserted = try db.fetchOne(
      """
      INSERT INTO elicence_applications (licence, device_key, applied_at, ready_at, state)
      VALUES (?, ?, ?, ?, 'pending') RETURNING \(Access.applicationColumns)
      """,
      number.value, deviceKey, appliedAt.description, readyAt.description
    ) { try applicationRow($0) }
    guard let inserted else {
      throw CentralError(.unusableStore, "the central store returned no new application")
    }
    return inserted
  }

  func dueApplications(at now: Timestamp) throws -> [(ELicenceApplication, [UInt8])] {
    // Times are ISO strings in one zone and format, so they order as text.
    try db.fetchAll(
      """
      SELECT \(Access.applicationColumns), device_key FROM elicence_applications
      WHERE state = 'pending' AND ready_at <= ? ORDER BY id
      """, now.description
    ) { (try applicationRow($0), $0.blob(6)) }
  }

  func completeApplication(_ id: Int, state: ApplicationState, reason: String?) throws
    -> ELicenceApplication
  {
    try db.execute(
      """
      UPDATE elicence_applications SET state = ?, reason = ?,
        elicence = (SELECT max(e.id) FROM elicences e WHERE e.licence = elicence_applications.licence)
      WHERE id = ?
      """, state.rawValue, reason, id)
    return try db.fetchOne(
      "SELECT \(Access.applicationColumns) FROM elicence_applications WHERE id = ?", id
    ) { try applicationRow($0) }!
  }

  func applications(_ number: LicenceNumber) throws -> [ELicenceApplication] {
    try db.fetchAll(
      "SELECT \(Access.applicationColumns) FROM elicence_applications WHERE licence = ? ORDER BY id DESC",
      number.value
    ) { try applicationRow($0) }
  }

  func applications(state: ApplicationState?, limit: Int) throws -> [ELicenceApplication] {
    try db.fetchAll(
      """
      SELECT \(Access.applicationColumns) FROM elicence_applications
      WHERE CAST(?1 AS TEXT) IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2
      """, state?.rawValue, limit
    ) { try applicationRow($0) }
  }

  func issuedELicences(_ number: LicenceNumber, currentEpoch: Int, at now: Timestamp) throws
    -> [ELicenceRegisterEntry]
  {
    var newestOfEpoch: Set<Int> = []
    return try db.fetchAll(
      "SELECT id, epoch, kid, issued_at, expires_at FROM elicences WHERE licence = ? ORDER BY id DESC",
      number.value
    ) { row in
      let epoch = row.int(1)
      let expiresAt = Timestamp(iso: row.text(4)) ?? Timestamp(secondsSinceEpoch: 0)
      let replaced = !newestOfEpoch.insert(epoch).inserted
      return ELicenceRegisterEntry(
        id: row.int(0), licence: number, epoch: epoch, kid: row.text(2),
        issuedAt: Timestamp(iso: row.text(3)) ?? Timestamp(secondsSinceEpoch: 0),
        expiresAt: expiresAt,
        state: epoch < currentEpoch
          ? .superseded : expiresAt <= now ? .expired : replaced ? .replaced : .current)
    }
  }

  func latestELicence(_ number: LicenceNumber, deviceKey: [UInt8]) throws -> IssuedELicence? {
    try db.fetchOne(
      """
      SELECT issuer_part, disclosures, epoch, kid, issued_at, expires_at FROM elicences
      WHERE licence = ? AND device_key = ? ORDER BY id DESC LIMIT 1
      """, number.value, deviceKey
    ) { row in
      IssuedELicence(
        credential: Credential(
          issuerPart: row.text(0),
          disclosures: try JSONDecoder().decode([String: String].self, from: Data(row.text(1).utf8))
        ),
        epoch: row.int(2), kid: row.text(3),
        issuedAt: Timestamp(iso: row.text(4)) ?? Timestamp(secondsSinceEpoch: 0),
        expiresAt: Timestamp(iso: row.text(5)) ?? Timestamp(secondsSinceEpoch: 0))
    }
  }
}
