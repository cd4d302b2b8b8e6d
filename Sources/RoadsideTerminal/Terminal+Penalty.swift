import Crypto
import Foundation
public import RoadsideDomain
import RoadsideProtocol
import RoadsideStorage

/// What the officer and the driver get from a stop: the documents served together, and
/// whether the paper licence was withheld.
public struct StopReport: Sendable, Codable, Equatable {
  public let stop: String
  public let at: Timestamp
  public let licence: String
  public let holder: String
  public let plate: String
  public let documents: [PenaltyDocument]
  public let pointsBefore: Int
  /// Points in the cycle once the stop's decisions and notices are decided, provisionally
  /// (central's ledger is authoritative after sync).
  public let pointsAfter: Int
  public let withholding: Withholding?
  public var paperLicenceRequired: Bool { withholding != nil }
  /// Set when fewer than 20 % of the allocated document numbers are left.
  public let lowStock: String?
}

/// One issued document with its state on this terminal.
public struct IssuedDocument: Sendable, Codable, Equatable {
  public let document: PenaltyDocument
  public let state: IssuedState
  public let voidReason: String?
  /// The stop's withholding, when the licence was withheld at it.
  public let withholding: Withholding?
  /// The other documents served with it, in the order issued.
  public let servedWith: [String]
}

extension Terminal {
  /// Records a stop: every offence charged (each decided separately), the procedure gate,
  /// numbers from this terminal's ranges, the withholding where the law requires it. The
  /// documents, their outbox entries, the stop and its audit entry are written in one
  /// transaction (synchronous=FULL): when this returns, they are on disk; if it throws,
  /// nothing was written.
  public func recordStop(
    licence number: LicenceNumber, plate: Plate, vehicle: LicenceClass,
    offences: [(code: String, fineYuan: Int?)], place: String, locationCode: String?,
    note: String?, refusedToSign: Bool
  ) throws -> StopReport {
    let now = clock.now()
    let today = now.chinaDate
    return try store.transaction {
      let officer = try requireSession(at: now)
      let identity = try store.identity()
      var charged: [(offence: Offence, fineYuan: Int?)] = []
      for (code, fine) in offences {
        charged.append((try cachedOffence(code), fine))
      }
      guard let cached = try store.licence(number) else {
        throw TerminalError(
          .notFound,
          "licence \(number.masked) is not in this terminal's cache; sync, or record the stop on paper"
        )
      }
      let before = try pointsNow(number, firstIssued: cached.firstIssued, today: today)
      let plan = try PenaltyPlanner.plan(charged, pointsBefore: before, classes: cached.classes)
      let stop = identifiers.nextUUID()
      let key = try SigningKey(seed: identity.privateKey)
      let calendar = try store.calendar()
      var documents: [PenaltyDocument] = []
      // Each offence decided separately; then, when the paper licence is withheld, the
      // certificate of that compulsory measure (公安部令第157号 §25, §26) as the stop's
      // last document, stating the facts of the offence that occasioned it.
      var issues = plan.charges.map {
        (kind: $0.procedure == .simple ? DocumentKind.decision : .notice, charge: $0)
      }
      if let withholding = plan.withholding,
        let cause = plan.charges.first(where: { $0.offence == withholding.offence })
          ?? plan.charges.last
      {
        issues.append((kind: .certificate, charge: cause))
      }
      for (kind, charge) in issues {
        let document = PenaltyDocument(
          kind: kind, number: try takeNumber(terminal: identity.terminal), stop: stop,
          terminal: identity.terminal,
          licence: number.value, holder: cached.name, plate: plate.value,
          vehicleClass: vehicle.rawValue, charge: charge, at: now, place: place,
          locationCode: locationCode, authority: identity.unit, officer: officer,
          signature: refusedToSign ? .refused : .signed, note: note,
          withholding: plan.withholding, calendar: calendar)
        let submission = try DocumentSubmission(signing: document, with: key)
        documents.append(document)
        try store.insertStop(
          stop, at: now, licence: number, plate: plate, pointsBefore: plan.pointsBefore,
          pointsAfter: plan.pointsAfter, withholding: plan.withholding, note: note)
        let recordID = try appendOutbox(kind: RecordKind(document.kind), submission, at: now)
        try store.insertDocument(
          document, points: kind == .certificate ? 0 : charge.points, recordID: recordID)
      }
      try appendAudit(
        officer: officer, action: "stop", subject: number.value,
        result: documents.map { "\($0.kind) \($0.number) \($0.charge.offence)" }.joined(
          separator: ", ") + (plan.withholding == nil ? "" : "; paper licence withheld"),
        at: now)
      return StopReport(
        stop: stop, at: now, licence: number.value, holder: cached.name, plate: plate.value,
        documents: documents, pointsBefore: plan.pointsBefore, pointsAfter: plan.pointsAfter,
        withholding: plan.withholding, lowStock: try lowStockWarning())
    }
  }

  /// Voids an issued document, offline too; central reverses its points (and refunds a fine
  /// already deducted) when the void arrives.
  public func voidDocument(_ number: String, reason: String) throws -> IssuedDocument {
    let now = clock.now()
    let reason = reason.trimmingCharacters(in: .whitespaces)
    guard !reason.isEmpty else {
      throw DomainError(.invalidData, "a void needs a reason; give --reason")
    }
    return try store.transaction {
      let officer = try requireSession(at: now)
      guard let issued = try document(number) else {
        throw TerminalError(
          .notFound, "document \(number) was not issued by this terminal; check the number")
      }
      guard issued.state == .issued else {
        throw DomainError(.notPermitted, "document \(number) is already void")
      }
      try store.voidDocument(number, reason: reason)
      try appendOutbox(
        kind: .void, VoidRecord(number: number, reason: reason, at: now, officer: officer),
        at: now)
      try appendAudit(
        officer: officer, action: "void", subject: number, result: reason, at: now)
      return try document(number)!
    }
  }

  /// An offence of the synced catalogue, or an error saying the code is unknown.
  func cachedOffence(_ code: String) throws -> Offence {
    guard let offence = try store.offence(code) else {
      throw DomainError(
        .invalidData,
        "unknown offence code \"\(code)\"; the terminal's catalogue has the codes 'roadside central offence list' shows (sync first if it is empty)"
      )
    }
    return offence
  }

  /// A document this terminal issued, with the stop it was served at.
  public func document(_ number: String) throws -> IssuedDocument? {
    try store.issuedDocument(number)
  }

  /// Points in the current cycle as the officer should see them: central's ledger from the
  /// cache plus this terminal's own decisions central has not yet put into it (provisional).
  public func pointsNow(_ number: LicenceNumber, firstIssued: LocalDate, today: LocalDate) throws
    -> Int
  {
    let ledger = try store.pointsLedger(number, firstIssued: firstIssued, asOf: today)
    let known = Set(ledger.entries.map(\.decisionNumber))
    let cycle = ledger.cycle(on: today)
    let provisional = try store.issuedDecisions(number)
      .filter { !known.contains($0.number) }
      .filter { item in item.document.map { cycle.contains($0.at.chinaDate) } ?? true }
      .reduce(0) { $0 + $1.points }
    return ledger.total(on: today) + provisional
  }

  /// Takes the next unused document number; refuses when every allocated number is used.
  func takeNumber(terminal: String) throws -> String {
    guard let number = try store.takeNumber(terminal: terminal) else {
      throw DomainError(
        .notPermitted,
        "terminal \(terminal) has used every document number central allocated to it; sync to receive a new range, nothing was recorded"
      )
    }
    return number
  }

  /// Numbers left of those allocated.
  public func numbersLeft() throws -> (left: Int, allocated: Int) { try store.numbersLeft() }

  func lowStockWarning() throws -> String? {
    let (left, allocated) = try numbersLeft()
    guard NumberRange.isLow(left: left, allocated: allocated) else { return nil }
    return
      "only \(left) of \(allocated) document numbers are left; sync soon so central can allocate more"
  }
}
