import Crypto
import Foundation
public import RoadsideDomain
import RoadsideFixtures
public import RoadsideProtocol
import RoadsideStorage

/// A processing notice as the unit sees it: issued at the roadside, waiting to be decided.
public struct NoticeCase: Sendable, Codable, Equatable {
  public let state: NoticeState
  public let notice: PenaltyDocument
  /// The decision made on it, once decided.
  public let decision: String?
}

/// Where a processing notice stands at the unit.
public enum NoticeState: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  /// Not decided, inside its reporting deadline.
  case open
  /// Not decided, the reporting deadline passed.
  case overdue
  case decided
}

/// One full-score education exam (公安部令第163号 §17–§23).
public struct FullScoreEducation: Sendable, Codable, Equatable {
  public let licence: String
  public let cycleStart: LocalDate
  /// The day the cycle reached 12 points: study runs from then.
  public let reachedOn: LocalDate
  public let completedOn: LocalDate
  public let exam: ExamResult
}

/// What the unit decided on a notice.
public struct UnitDecision: Sendable, Codable, Equatable {
  public let notice: String
  public let decision: PenaltyDocument
  /// Central's Ed25519 signature over the decision (``DocumentSubmission/signingBytes(of:)``),
  /// base64, and the public key that verifies it.
  public let signature: String
  public let publicKey: String
  public let licence: Licence
  public let pointsAfter: Int
  /// A bank deduction was queued (the driver has an active mandate).
  public let deductionQueued: Bool
}

/// Reading the general procedure's cases and full-score education; ``Access`` implements it.
public protocol CentralProcedureReading {
  func notices() throws -> [(document: PenaltyDocument, state: DocumentState, decision: String?)]
  func notice(decidedBy decision: String) throws -> String?
  func decision(onNotice notice: String) throws -> String?
  func educations(of licence: LicenceNumber) throws -> [FullScoreEducation]
}

/// Writing them.
public protocol CentralProcedureStore: CentralProcedureReading {
  func insertUnitDocument(_ document: PenaltyDocument, signature: String) throws
  /// Marks a notice decided by `decision`, or open again (nil).
  func setNotice(_ number: String, decidedBy decision: String?) throws
  func insert(_ education: FullScoreEducation, at: Timestamp) throws
}

extension CentralService {
  // MARK: - The ledger as time passes

  /// The licence's points ledger with every cycle that ended by `now` closed
  /// (公安部令第163号 §15), persisted and logged when one closed. Every write path reads the
  /// ledger through this, so cycles close as time passes, idempotently.
  func currentLedger(
    _ licence: Licence, at now: Timestamp, in tx: any CentralWriting
  ) throws -> PointsLedger {
    var ledger = try tx.pointsLedger(for: licence.number, firstIssued: licence.firstIssued)
    let closings = ledger.closeCycles(through: now.chinaDate)
    if !closings.isEmpty {
      try tx.save(ledger, for: licence.number)
      try tx.append(
        NewChange(
          entity: .points, key: licence.number.value, payload: try CanonicalJSON.string(ledger)),
        at: now, action: "points.cycle-closed",
        reason: closings.map { closing in
          "cycle \(closing.cycle): \(closing.total) points, \(closing.carriedOver) carried"
            + (closing.overdueFine.map { " (fine of \($0) overdue, §15)" } ?? "")
            + (closing.heldForFullScoreEducation ? " (12 reached, held until education, §23)" : "")
        }.joined(separator: "; "))
    }
    return ledger
  }

  /// The same for a read: the cycles are closed in memory (the next write persists them).
  func currentLedger(_ licence: Licence, on today: LocalDate, in tx: any CentralReading) throws
    -> PointsLedger
  {
    var ledger = try tx.pointsLedger(for: licence.number, firstIssued: licence.firstIssued)
    _ = ledger.closeCycles(through: today)
    return ledger
  }

  /// Closes every ended cycle of one licence now (what `licence show` does before reading);
  /// writes only when a cycle is due.
  func closeDueCycles(_ number: LicenceNumber) throws {
    let now = clock.now()
    let due = try store.read { tx in
      let licence = try requireLicence(number, in: tx)
      var ledger = try tx.pointsLedger(for: number, firstIssued: licence.firstIssued)
      return !ledger.closeCycles(through: now.chinaDate).isEmpty
    }
    guard due else { return }
    try store.write { tx in
      _ = try currentLedger(try requireLicence(number, in: tx), at: now, in: tx)
    }
  }

  /// Records a decision's points and what reaching 12 does to the licence: status B and the
  /// licence withheld (U) (公安部令第163号 §17); when an offence of the cycle was committed in
  /// the probation period, the probationary classes are cancelled (公安部令第162号 §80 with
  /// §76: the 12 months after the first issue). Roadside keeps one first-issue date per
  /// licence, so every class counts as obtained then: the whole licence is cancelled (注销,
  /// G). Returns the licence as changed and the points after.
  func recordPoints(
    of decision: StoredDecision, licence: Licence, at now: Timestamp, in tx: any CentralWriting
  ) throws -> (licence: Licence, after: Int) {
    var ledger = try currentLedger(licence, at: now, in: tx)
    let outcome = try ledger.record(
      decisionNumber: decision.number, offenceCode: decision.offence, points: decision.points,
      decidedOn: decision.decidedOn, finePaid: decision.paid)
    try tx.save(ledger, for: licence.number)
    try tx.append(
      NewChange(
        entity: .points, key: licence.number.value, payload: try CanonicalJSON.string(ledger)),
      at: now, action: "decision.applied", reason: nil)
    var licence = licence
    if let marked = licence.markedPointsFull(after: outcome, today: now.chinaDate) {
      licence = marked
      let probationEnd = licence.firstIssued.adding(years: 1)
      if ledger.entries.contains(where: {
        $0.isLive && $0.countsInCycle == outcome.cycle.start && $0.decidedOn < probationEnd
      }) {
        licence = licence.cancelling()
      }
    }
    return (licence, outcome.after)
  }

  // MARK: - Notices and the unit's decisions

  /// Every processing notice, newest first, with its state on `today`.
  public func notices(state: NoticeState? = nil) throws -> [NoticeCase] {
    let today = clock.now().chinaDate
    return try store.read { tx in
      try tx.notices().compactMap { row -> NoticeCase? in
        let caseState: NoticeState
        switch row.state {
        case .decided: caseState = .decided
        case .effective:
          caseState = (row.document.reportBy.map { today > $0 } ?? false) ? .overdue : .open
        case .voided, .held: return nil  // no case to decide
        }
        guard state == nil || state == caseState else { return nil }
        return NoticeCase(state: caseState, notice: row.document, decision: row.decision)
      }
    }
  }

  /// Decides a processing notice at the unit (公安部令第157号 §48–§51): a penalty decision
  /// with every field §49 requires, numbered from central's own serials (the regional
  /// sequence after every serial allocated or used, so no terminal's range holds it), signed
  /// by central; the points recorded then (公安部令第163号 §13); the licence measure applied
  /// (暂扣 → D until its end, 吊销 → F); the bank deduction queued when a mandate exists; all
  /// of it in the change log in one transaction.
  ///
  /// - `fineYuan`: nil keeps the fine the notice proposed; it must lie in the offence's range
  ///   (0: a warning where the law allows one).
  /// - `measure`: nil applies the offence's measure. A measure the law attaches to the offence
  ///   cannot be changed (道路交通安全法 §91, §101); for 50 % or more over the limit, 吊销 may
  ///   be added (§99第2款 "可以并处吊销机动车驾驶证").
  /// - Withholding at the roadside ends with the decision when the licence is suspended or
  ///   revoked, and each day withheld counts as a day of the suspension (157号 §32); for a
  ///   fine alone the paper licence is returned once the fine is paid (157号 §32). A
  ///   withholding for 12 points stays until full-score education ends (163号 §23).
  public func decideNotice(
    _ number: String, fineYuan: Int?, measure: LicenceMeasure?, reason: String?
  ) throws -> UnitDecision {
    let now = clock.now()
    let today = now.chinaDate
    return try store.write { tx in
      guard let (notice, state) = try tx.document(number) else {
        throw CentralError(
          .notFound,
          "no document \(number) in the central store; list the notices with 'roadside central notice list'"
        )
      }
      guard notice.kind == DocumentKind.notice else {
        throw DomainError(
          .notPermitted,
          "document \(number) is a \(notice.kind.rawValue), not a processing notice; only notices are decided at the unit"
        )
      }
      switch state {
      case .effective: break
      case .decided:
        throw DomainError(
          .notPermitted,
          "notice \(number) is already decided, by decision \(try tx.decision(onNotice: number) ?? "?")"
        )
      case .held:
        throw DomainError(
          .notPermitted,
          "notice \(number) is held as a duplicate of another document of the same event; there is no second case to decide"
        )
      case .voided:
        throw DomainError(.notPermitted, "notice \(number) was voided; there is nothing to decide")
      }
      guard let offence = catalogue.offence(notice.charge.offence) else {
        throw DomainError(
          .invalidData, "offence \(notice.charge.offence) is not in catalogue \(catalogue.version)")
      }
      let yuan = fineYuan ?? (notice.charge.warning ? 0 : Int(notice.charge.fine.fen / 100))
      try offence.fine.check(yuan, offence: offence.code)
      let warning = offence.fine.isWarning(yuan)
      let chosen = measure ?? offence.measure
      if chosen != offence.measure {
        let mayRevoke = offence.fine.basis.contains("第99条第1款第4项") && chosen == .revoke
        guard mayRevoke, offence.measure == .none else {
          throw DomainError(
            .invalidData,
            offence.measure == .none
              ? "offence \(offence.code) carries no suspension or revocation (\(offence.fine.basis)); give --measure none"
              : "offence \(offence.code) carries \(offence.measure.english) by law (\(offence.fine.basis)); --measure cannot change it"
          )
        }
      }
      var licence = try requireLicence(try CitizenID(notice.licence), in: tx)
      let before = licence
      if licence.status.isTerminal, chosen != .none {
        throw DomainError(
          .notPermitted,
          "licence \(licence.number.masked) has status \(licence.status.code) (\(licence.status.english)); it can no longer be \(chosen.english)"
        )
      }
      let serial = try tx.highestSerial(region: CentralService.documentRegion, year: today.year) + 1
      let decisionNumber = CentralService.documentRegion + String(today.year) + pad8(serial)
      let charge = Charge(
        offence: offence.code, chinese: offence.chinese, english: offence.english,
        fine: Money(yuan: yuan), warning: warning, points: warning ? 0 : offence.points,
        measure: chosen,
        basis: "\(offence.fine.basis); points: \(offence.pointsBasis)", procedure: .general)
      let note = [reason, "decided at the unit on processing notice \(number) (公安部令第157号 §48–§51)"]
        .compactMap { $0 }.joined(separator: "; ")
      let document = PenaltyDocument(
        kind: .decision, number: decisionNumber, stop: notice.stop,
        terminal: PenaltyDocument.unit, licence: notice.licence, holder: notice.holder,
        plate: notice.plate, vehicleClass: notice.vehicleClass, charge: charge, at: now,
        place: notice.place, locationCode: notice.locationCode, authority: notice.authority,
        officer: notice.officer, signature: .signed, note: note, withholding: nil,
        calendar: try tx.calendar())
      try document.check(against: offence)
      let key = try documentKey(in: tx)
      let signature = try DocumentSubmission(signing: document, with: key).signature
      let paid = charge.fine == .zero
      let stored = StoredDecision(
        number: decisionNumber, licence: licence.number, plate: notice.plate,
        offence: offence.code, decidedOn: today, fine: charge.fine, points: charge.points,
        paid: paid, place: notice.place, state: .effective)
      try tx.insert(stored)
      try tx.insertUnitDocument(document, signature: signature)
      try tx.setNotice(number, decidedBy: decisionNumber)
      try tx.append(
        NewChange(
          entity: .decision, key: decisionNumber, payload: try CanonicalJSON.string(stored)),
        at: now, action: "notice.decided", reason: reason)
      var pointsAfter = try currentLedger(licence, at: now, in: tx).total(on: today)
      if charge.points > 0 {
        (licence, pointsAfter) = try recordPoints(of: stored, licence: licence, at: now, in: tx)
      }
      let withheldForStop = notice.withholding != nil && !licence.status.contains(.pointsFull)
      switch chosen {
      case .none: break
      case .suspend(let months):
        // 157号 §32: each day the paper licence was withheld counts as a day of suspension.
        let withheldDays = withheldForStop ? max(0, notice.at.chinaDate.days(until: today)) : 0
        let until = today.adding(months: months).adding(days: -1 - withheldDays)
        if licence.status.contains(.withheld), withheldForStop {
          licence = licence.removingWithholding()
        }
        if !licence.status.contains(.suspended) {
          licence = try licence.suspending(until: until)
        }
      case .revoke:
        licence = try licence.revoking()
      }
      if licence != before {
        try tx.update(licence)
        try tx.append(
          NewChange(
            entity: .licence, key: licence.number.value, payload: try CanonicalJSON.string(licence)),
          at: now, action: "notice.decided", reason: reason)
      }
      var queued = false
      if !paid, let mandate = try tx.mandates(for: licence.number).first(where: \.isActive) {
        try tx.insertDeduction(
          decision: decisionNumber, licence: licence.number.value, bank: mandate.bank,
          account: mandate.account, fine: stored.fine, servedOn: today, at: now)
        try logDeduction(decisionNumber, action: "deduction.created", at: now, in: tx)
        queued = true
      }
      return UnitDecision(
        notice: number, decision: document, signature: signature,
        publicKey: Data(key.publicKey).base64EncodedString(), licence: licence,
        pointsAfter: pointsAfter, deductionQueued: queued)
    }
  }

  /// Voids a decision the unit made (撤销, as a terminal voids its own): the points are
  /// revoked (公安部令第163号 §16), the deduction cancelled or refunded, and the notice is open
  /// again to be decided anew. A licence measure the decision applied is not undone here:
  /// reinstate it with `central licence reinstate` if the void calls for it.
  public func voidUnitDecision(_ number: String, reason: String) throws -> StoredDecision {
    let now = clock.now()
    let reason = reason.trimmingCharacters(in: .whitespaces)
    guard !reason.isEmpty else {
      throw DomainError(.invalidData, "a void needs a reason; give --reason")
    }
    return try store.write { tx in
      guard let (document, state) = try tx.document(number),
        document.terminal == PenaltyDocument.unit
      else {
        throw CentralError(
          .notFound,
          "no decision \(number) made at the unit; a terminal's decision is voided on that terminal ('roadside decision void')"
        )
      }
      guard state == .effective else {
        throw DomainError(.notPermitted, "decision \(number) is already void")
      }
      try applyVoid(
        VoidRecord(number: number, reason: reason, at: now, officer: document.officer),
        document: document, at: now, in: tx)
      if let notice = try tx.notice(decidedBy: number) {
        try tx.setNotice(notice, decidedBy: nil)
      }
      return try tx.decision(number)!
    }
  }

  /// Central's Ed25519 key for the documents it signs itself, made on first use.
  func documentKey(in tx: any CentralWriting) throws -> SigningKey {
    if let text = try tx.meta("document_key"), let raw = Data(base64Encoded: text) {
      return try SigningKey(seed: raw)
    }
    let key = SigningKey.generate()
    try tx.setMeta("document_key", Data(key.seed).base64EncodedString())
    return key
  }

  // MARK: - Full-score education

  /// Records a full-score education exam (公安部令第163号 §17–§23). Passing, after the study
  /// days of §18 are served and with every fine of the held points paid, clears the points,
  /// removes B and returns the withheld licence (U) — unless a suspension still runs, when
  /// the licence is returned at its end (§23). A failed exam is recorded; the next may be
  /// taken 10 days later (§21). Refused, with the article, before the study days are served,
  /// while a fine is unpaid, or when the licence is not at 12.
  public func completeEducation(
    _ number: LicenceNumber, completed: LocalDate, passed: Bool, reason: String?
  ) throws -> AdminOutcome {
    let now = clock.now()
    guard completed <= now.chinaDate else {
      throw DomainError(
        .invalidData, "--completed \(completed) is in the future; give the day of the exam")
    }
    return try store.write { tx in
      let before = try requireLicence(number, in: tx)
      let first = try tx.latestSequence()
      var ledger = try currentLedger(before, at: now, in: tx)
      let cycle = ledger.cycle(on: completed)
      guard let reached = ledger.fullScoreReached(inCycleOf: completed) else {
        throw DomainError(
          .notPermitted,
          "licence \(number.masked) has \(ledger.total(on: completed)) points in the cycle of \(completed), below 12; there is no full-score education to complete (公安部令第163号 §17)"
        )
      }
      let earlier = try tx.educations(of: number).filter { $0.cycleStart == cycle.start }
      let passedBefore = earlier.filter { $0.exam == .passed }.count
      let days = PointsLedger.fullScoreStudyDays(
        classes: before.classes, timesInCycle: passedBefore + 1,
        points: ledger.total(inCycleStarting: cycle.start))
      let served = reached.days(until: completed)
      guard served >= days else {
        throw DomainError(
          .notPermitted,
          "full-score study is \(days) days from \(reached) (公安部令第163号 §18); the exam can be taken from \(reached.adding(days: days)), not \(completed)"
        )
      }
      if let failed = earlier.last(where: { $0.exam == .failed && $0.reachedOn == reached }),
        failed.completedOn.days(until: completed) < 10
      {
        throw DomainError(
          .notPermitted,
          "the exam was failed on \(failed.completedOn); it may be retaken 10 days later, from \(failed.completedOn.adding(days: 10)) (公安部令第163号 §21)"
        )
      }
      let education = FullScoreEducation(
        licence: number.value, cycleStart: cycle.start, reachedOn: reached,
        completedOn: completed, exam: passed ? .passed : .failed)
      var extra: [NewChange] = []
      var after = before
      if passed {
        try ledger.completeFullScoreEducation(on: completed)
        try tx.save(ledger, for: number)
        extra.append(
          NewChange(entity: .points, key: number.value, payload: try CanonicalJSON.string(ledger)))
        after = before.clearingPointsFull(returnLicence: !before.status.contains(.suspended))
      }
      try tx.insert(education, at: now)
      if after != before {
        try tx.update(after)
        try tx.append(
          NewChange(entity: .licence, key: number.value, payload: try CanonicalJSON.string(after)),
          at: now, action: "points.education", reason: reason)
      }
      for change in extra {
        try tx.append(change, at: now, action: "points.education", reason: reason)
      }
      return AdminOutcome(
        licence: after, changes: try tx.changes(after: first, limit: Int.max, for: nil))
    }
  }

  public func educations(_ number: LicenceNumber) throws -> [FullScoreEducation] {
    try store.read { try $0.educations(of: number) }
  }
}

private func pad8(_ value: Int) -> String {
  let text = String(value)
  return String(repeating: "0", count: max(0, 8 - text.count)) + text
}
