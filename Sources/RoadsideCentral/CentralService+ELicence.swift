import Foundation
public import RoadsideCredentials
public import RoadsideDomain
import RoadsideFixtures
import RoadsideStorage

/// An application for an e-licence and where it stands.
public struct ELicenceApplication: Sendable, Codable, Equatable {
  public let id: Int
  public let licence: LicenceNumber
  public let appliedAt: Timestamp
  /// When the one-working-day review completes.
  public let readyAt: Timestamp
  /// `pending`, `issued` or `refused`.
  public let state: String
  public let reason: String?
}

/// An issued e-licence as the holder's phone fetches it.
public struct IssuedELicence: Sendable, Codable, Equatable {
  public let credential: Credential
  public let epoch: Int
  public let kid: String
  public let issuedAt: Timestamp
  public let expiresAt: Timestamp
}

/// One issued e-licence as central's register lists it.
public struct ELicenceRegisterEntry: Sendable, Codable, Equatable {
  public let id: Int
  public let licence: LicenceNumber
  public let epoch: Int
  public let kid: String
  public let issuedAt: Timestamp
  public let expiresAt: Timestamp
  /// `current`; `replaced` (a newer e-licence of the same epoch was issued, usually to a new
  /// phone; the old one still verifies until it expires or the epoch ends, as a paper licence
  /// reissued with the same data would); `superseded` (a newer epoch started: renewal, class
  /// or validity change; nothing of the old epoch verifies and the holder must re-apply); or
  /// `expired`.
  public let state: String
}

extension CentralService {
  /// The holiday calendar stored at init.
  public func workingCalendar() throws -> WorkingCalendar { try store.read { try $0.calendar() } }

  /// Applies for an e-licence for `number`, bound to the phone's public key. The review
  /// completes one working day later (weekends and the holiday calendar do not count);
  /// the application is refused at once, with the reason, when the licence could not be
  /// issued an e-licence now.
  public func applyForELicence(_ number: LicenceNumber, devicePublicKey: [UInt8]) throws
    -> ELicenceApplication
  {
    let now = clock.now()
    let calendar = try workingCalendar()
    return try store.write { tx in
      let licence = try requireLicence(number, in: tx)
      if let refusal = CentralService.issuanceRefusal(licence, on: now.chinaDate) {
        throw DomainError(.notPermitted, "the application is refused: \(refusal)")
      }
      guard devicePublicKey.count == 32 else {
        throw DomainError(
          .invalidData, "a phone's public key is 32 bytes, not \(devicePublicKey.count)")
      }
      if try tx.pendingApplication(number) != nil {
        throw CentralError(
          .refused("application_pending"), "an application for this licence is already under review"
        )
      }
      return try tx.insertApplication(
        number, deviceKey: devicePublicKey, appliedAt: now,
        readyAt: calendar.oneWorkingDayAfter(now))
    }
  }

  /// Completes every review that is due by now: issues the e-licence, or refuses it when the
  /// licence changed during the review. While no issuer key is active, due reviews wait.
  /// Returns the applications it completed.
  public func completeDueReviews(salt: () -> [UInt8]) throws -> [ELicenceApplication] {
    let now = clock.now()
    var completed: [ELicenceApplication] = []
    for (application, deviceKey) in try store.read({ try $0.dueApplications(at: now) }) {
      do {
        _ = try issueCredential(application.licence, devicePublicKey: deviceKey, salt: salt)
        completed.append(
          try store.write {
            try $0.completeApplication(application.id, state: "issued", reason: nil)
          })
      } catch let error as CentralError where error.kind == .refused("no_active_key") {
        // Nothing can be signed until a key is active: the review waits, it is not refused.
        continue
      } catch let error as DomainError {
        completed.append(
          try store.write {
            try $0.completeApplication(application.id, state: "refused", reason: error.description)
          })
      }
    }
    return completed
  }

  /// The applications of a licence, newest first.
  public func applications(_ number: LicenceNumber) throws -> [ELicenceApplication] {
    try store.read { try $0.applications(number) }
  }

  /// Applications across all licences, newest first, optionally only those in `state`.
  public func applications(state: String?, limit: Int) throws -> [ELicenceApplication] {
    try store.read { try $0.applications(state: state, limit: limit) }
  }

  /// The e-licences issued for `number`, newest first, each with where it stands now.
  public func issuedELicences(_ number: LicenceNumber) throws -> [ELicenceRegisterEntry] {
    let now = clock.now()
    return try store.read { tx in
      try tx.issuedELicences(
        number, currentEpoch: try requireLicence(number, in: tx).epoch, at: now)
    }
  }

  /// The newest e-licence issued for `number` to the phone with `devicePublicKey`.
  public func issuedELicence(_ number: LicenceNumber, devicePublicKey: [UInt8]) throws
    -> IssuedELicence?
  {
    try store.read { try $0.latestELicence(number, deviceKey: devicePublicKey) }
  }

  /// Why an e-licence cannot be issued for `licence` on `date`, or nil.
  static func issuanceRefusal(_ licence: Licence, on date: LocalDate) -> String? {
    if licence.status.isTerminal {
      return
        "the licence has status \(licence.status.code) and is no longer in force, so it cannot have an e-licence"
    }
    if licence.status.contains(.withheld) {
      return "the licence is withheld (U); apply again once it is returned"
    }
    if licence.status.contains(.suspended) {
      return "the licence is suspended (D); apply again once the suspension ends"
    }
    if licence.status.contains(.overdueMedical) {
      return "the licence is overdue for a medical (R); apply again once the medical is recorded"
    }
    if licence.photo == nil {
      return
        "no photo is on file; the holder must have one taken at a vehicle administration office"
    }
    if licence.isExpired(on: date) { return "the licence has expired; renew it first" }
    return nil
  }
}

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
        "INSERT OR REPLACE INTO calendar_days (date, kind, name) VALUES (?, ?, ?)",
        day.date.description, day.kind,
        day.name)
    }
  }

  static let applicationColumns = "id, licence, applied_at, ready_at, state, reason"

  func applicationRow(_ row: Row) throws -> ELicenceApplication {
    ELicenceApplication(
      id: row.int(0), licence: try CitizenID(row.text(1)),
      appliedAt: Timestamp(iso: row.text(2)) ?? Timestamp(secondsSinceEpoch: 0),
      readyAt: Timestamp(iso: row.text(3)) ?? Timestamp(secondsSinceEpoch: 0), state: row.text(4),
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
    try db.execute(
      "INSERT INTO elicence_applications (licence, device_key, applied_at, ready_at, state) VALUES (?, ?, ?, ?, 'pending')",
      number.value, deviceKey, appliedAt.description, readyAt.description)
    let id = db.lastInsertRowID
    return try db.fetchOne(
      "SELECT \(Access.applicationColumns) FROM elicence_applications WHERE id = ?", id
    ) { try applicationRow($0) }!
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

  func completeApplication(_ id: Int, state: String, reason: String?) throws -> ELicenceApplication
  {
    try db.execute(
      """
      UPDATE elicence_applications SET state = ?, reason = ?,
        elicence = (SELECT max(e.id) FROM elicences e WHERE e.licence = elicence_applications.licence)
      WHERE id = ?
      """, state, reason, id)
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

  func applications(state: String?, limit: Int) throws -> [ELicenceApplication] {
    try db.fetchAll(
      """
      SELECT \(Access.applicationColumns) FROM elicence_applications
      WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2
      """, state, limit
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
          ? "superseded" : expiresAt <= now ? "expired" : replaced ? "replaced" : "current")
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
