import Foundation
import RoadsideDomain
import RoadsideMutants
public import RoadsideProtocol

/// Thresholds of conflict detection.
public enum ConflictRules {
  /// Two violations of the same licence, offence and plate this close are one event
  /// recorded twice (DESIGN §5): the later one is held for review.
  public static let duplicateWindowSeconds: Int64 = 10 * 60
  /// A record dated further than this ahead of central's receipt, or behind the
  /// terminal's previous record, reveals a skewed terminal clock.
  public static let clockSkewSeconds: Int64 = 5 * 60
  /// Rejected records central keeps per terminal. Beyond it a rejected record is still
  /// acknowledged as rejected, with its reason, but not stored: a flood of junk records in
  /// signed pushes cannot fill central's disk.
  public static let maximumStoredRejections = 1_000
}

/// What one push batch has done so far: the terminal's rejected records kept, and the
/// `unknown_officer` conflict already raised for each officer (one per officer and batch,
/// however many of its records the batch carries).
struct BatchState {
  var storedRejections: Int
  var officerConflicts: [String: ConflictReport] = [:]
  /// The record this batch stored last, for the clock check's "previous record".
  var lastStored: StoredRecord?
  /// The terminal's audit entries central holds with the numbers this batch carries, and
  /// those the batch has stored: one query for the batch, not one per entry.
  var auditEntries: [Int64: AuditEntry] = [:]
  /// Each check record's licence as central knew it at the check's time, by record id,
  /// found for the whole batch in one query. Good while the batch has applied only checks
  /// and audit entries, which change no licence; the first other record empties it, and the
  /// checks after it ask one at a time.
  var licencesAsOf: [String: Licence?] = [:]
}

/// Why a whole push batch was refused before any record was looked at. Nothing is stored.
public struct PushRefusal: Error, Sendable, Equatable, CustomStringConvertible {
  /// HTTP status and stable code of the protocol error.
  public let status: Int
  public let code: String
  public let description: String
}

extension CentralService {
  /// Applies a signed batch of terminal records, each exactly once, in one transaction, and
  /// acknowledges each: accepted, duplicate (with the first acknowledgement), rejected
  /// (with a reason) or conflict (with the conflict). Conflicts and violations enter the
  /// change log so that every terminal learns of them.
  public func push(_ batch: PushBatch) throws -> PushResponse {
    let now = clock.now()
    return try store.write { tx in
      guard let terminal = try tx.terminal(batch.terminal) else {
        throw PushRefusal(
          status: 404, code: "unknown_terminal",
          description: "central does not know terminal \(batch.terminal)")
      }
      guard terminal.publicKey != nil else {
        throw PushRefusal(
          status: 403, code: "terminal_not_registered",
          description: "terminal \(batch.terminal) has not registered its key")
      }
      guard batch.isSigned(byBase64Key: terminal.publicKey) else {
        throw PushRefusal(
          status: 401, code: "bad_signature",
          description:
            "the batch's signature does not verify with the key of terminal \(batch.terminal)")
      }
      guard Set(batch.records.map(\.recordID)).count == batch.records.count else {
        throw PushRefusal(
          status: 400, code: "malformed_batch",
          description: "a record id appears twice in the batch")
      }
      let auditEntries = batch.records.compactMap(Self.auditEntry)
      try tx.lockInOrder(
        records: batch.records.map(\.recordID),
        licences: batch.records.compactMap(Self.lockedLicence),
        documents: batch.records.compactMap(Self.voidedDocument),
        officers: auditEntries.filter { $0.action == "login" }.map(\.officer)
          + batch.records.compactMap(Self.pinChangeOfficer))
      var acknowledgements: [RecordAcknowledgement] = []
      var revokedConflict: ConflictReport?
      var state = BatchState(storedRejections: try tx.rejectedRecordCount(terminal: terminal.id))
      state.auditEntries = try tx.auditEntries(
        terminal: batch.terminal, seqs: auditEntries.map(\.seq))
      let checks = batch.records.compactMap { record -> (id: String, check: CheckRecord)? in
        guard record.recordKind == .check,
          let check = try? JSONDecoder().decode(CheckRecord.self, from: Data(record.payload.utf8)),
          check.found, check.statusSeen != nil
        else { return nil }
        return (record.recordID, check)
      }
      let known = try tx.licences(asOf: checks.map { ($0.check.licence, $0.check.at) })
      state.licencesAsOf = Dictionary(
        zip(checks.map(\.id), known).map { ($0, $1) }, uniquingKeysWith: { first, _ in first })
      // Ids are unique within the batch (above), so what this batch inserts never makes
      // another of its records a duplicate: one query finds them all.
      let alreadyStored = try tx.records(batch.records.map(\.recordID))
      for record in batch.records {
        if let first = alreadyStored[record.recordID], mutant != .pushAppliedTwice {
          acknowledgements.append(
            try duplicateAcknowledgement(record, terminal: batch.terminal, first: first, in: tx))
          continue
        }
        if terminal.status == .revoked {
          if revokedConflict == nil {
            revokedConflict = try tx.insertConflict(
              kind: .revokedTerminal, terminal: batch.terminal,
              records: batch.records.map(\.recordID),
              licence: nil, detectedAt: now,
              description:
                "terminal \(batch.terminal) uploaded \(batch.records.count) record(s) after it was reported lost",
              resolution: "refused; none of them was applied")
            try log(revokedConflict!, at: now, in: tx)
          }
          try tx.insert(
            stored(
              record, batch: batch, at: now, outcome: .rejected, reason: "terminal_revoked",
              conflict: revokedConflict))
          acknowledgements.append(
            RecordAcknowledgement(
              recordID: record.recordID, outcome: .rejected, reason: "terminal_revoked",
              conflict: revokedConflict))
          continue
        }
        acknowledgements.append(
          try apply(record, batch: batch, terminal: terminal, state: &state, at: now, in: tx))
      }
      return PushResponse(batchID: batch.batchID, acknowledgements: acknowledgements)
    }
  }

  /// All conflicts, or those of one terminal.
  public func conflicts(terminal: String? = nil) throws -> [ConflictReport] {
    try store.read { try $0.conflicts(terminal: terminal) }
  }

  /// The audit entries a terminal pushed, and whether their chain holds.
  public func verifyAudit(terminal: String) throws -> (entries: [AuditEntry], verdict: AuditVerdict)
  {
    try store.read { tx in
      _ = try requireTerminal(terminal, in: tx)
      let entries = try tx.auditEntries(terminal: terminal)
      return (entries, AuditChain.verify(entries))
    }
  }

  /// The licence a record is about, for the locks of ``CentralWriting/lockInOrder``: a
  /// violation's or a penalty document's. Nil for any other record, and for a payload that
  /// does not decode (it is rejected, and needs no lock).
  static func lockedLicence(of record: PushRecord) -> String? {
    let payload = Data(record.payload.utf8)
    switch record.recordKind {
    case .violation?:
      return (try? JSONDecoder().decode(ViolationRecord.self, from: payload))?.licence
    case .decision?, .notice?, .certificate?:
      return (try? JSONDecoder().decode(DocumentSubmission.self, from: payload))?.document.licence
    default:
      return nil
    }
  }

  /// The penalty document a void record voids, for its licence's lock; nil for any other.
  static func voidedDocument(of record: PushRecord) -> String? {
    guard record.recordKind == .void else { return nil }
    return (try? JSONDecoder().decode(VoidRecord.self, from: Data(record.payload.utf8)))?.number
  }

  /// An audit record's entry, decoded once for the locks (a login may change its officer's
  /// row: wrong PINs, lockout) and the lookup of entries already held; nil for any other
  /// record and for a payload that does not decode.
  static func auditEntry(of record: PushRecord) -> AuditEntry? {
    guard record.recordKind == .audit else { return nil }
    return try? JSONDecoder().decode(AuditEntry.self, from: Data(record.payload.utf8))
  }

  /// The officer whose PIN a PIN-change record changes, for the officer's lock.
  static func pinChangeOfficer(of record: PushRecord) -> String? {
    guard record.recordKind == .pinChange else { return nil }
    return (try? JSONDecoder().decode(PINChangeRecord.self, from: Data(record.payload.utf8)))?
      .officer
  }

  private func duplicateAcknowledgement(
    _ record: PushRecord, terminal: String, first: StoredRecord, in tx: any CentralWriting
  ) throws -> RecordAcknowledgement {
    guard first.kind == record.kind, first.payload == record.payload, first.terminal == terminal
    else {
      return RecordAcknowledgement(
        recordID: record.recordID, outcome: .rejected,
        reason: "record id reused with different content; the first record with this id stands")
    }
    let conflict = try first.conflictID.flatMap { try tx.conflict($0) }
    return RecordAcknowledgement(
      recordID: record.recordID, outcome: .duplicate,
      first: FirstAcknowledgement(
        outcome: first.outcome, reason: first.reason, conflict: conflict,
        receivedAt: first.receivedAt))
  }

  private func stored(
    _ record: PushRecord, batch: PushBatch, at now: Timestamp, outcome: RecordOutcome,
    reason: String?,
    conflict: ConflictReport?
  ) -> StoredRecord {
    StoredRecord(
      recordID: record.recordID, terminal: batch.terminal, terminalSeq: record.terminalSeq,
      kind: record.kind,
      createdAt: record.createdAt, receivedAt: now, payload: record.payload, outcome: outcome,
      reason: reason,
      conflictID: conflict?.id)
  }

  private func log(_ conflict: ConflictReport, at now: Timestamp, in tx: any CentralWriting) throws
  {
    try tx.append(
      NewChange(entity: .conflict, key: conflict.id, payload: try CanonicalJSON.string(conflict)),
      at: now,
      action: "conflict.detected", reason: nil)
  }

  /// Applies one new record and decides its acknowledgement.
  private func apply(
    _ record: PushRecord, batch: PushBatch, terminal: TerminalState, state: inout BatchState,
    at now: Timestamp, in tx: any CentralWriting
  ) throws -> RecordAcknowledgement {
    /// Keeps a rejected record while the terminal is under its limit.
    func keepRejected(_ reason: String, conflict: ConflictReport?) throws -> String {
      guard state.storedRejections < ConflictRules.maximumStoredRejections else {
        return
          "\(reason) (not kept: central keeps at most \(ConflictRules.maximumStoredRejections) rejected records of a terminal)"
      }
      let kept = stored(
        record, batch: batch, at: now, outcome: .rejected, reason: reason, conflict: conflict)
      try tx.insert(kept)
      state.lastStored = kept
      state.storedRejections += 1
      return reason
    }
    func reject(_ reason: String) throws -> RecordAcknowledgement {
      let told = try keepRejected(reason, conflict: nil)
      return RecordAcknowledgement(recordID: record.recordID, outcome: .rejected, reason: told)
    }
    /// Rejects a record whose officer central cannot place, with an `unknown_officer`
    /// conflict so that the unit hears of it.
    func rejectOfficer(_ officer: String, at: Timestamp, licence: String?) throws
      -> RecordAcknowledgement?
    {
      guard let reason = try officerRefusal(officer, at: at, terminal: terminal, in: tx) else {
        return nil
      }
      let report: ConflictReport?
      if let raised = state.officerConflicts[officer] {
        report = raised
      } else if state.storedRejections >= ConflictRules.maximumStoredRejections {
        // Past the limit nothing more is stored for this terminal, conflicts included.
        report = nil
      } else {
        let draft = unknownOfficer(reason, licence: licence)
        let raised = try tx.insertConflict(
          kind: draft.kind, terminal: batch.terminal, records: [record.recordID],
          licence: draft.licence, detectedAt: now, description: draft.description,
          resolution: draft.resolution)
        try log(raised, at: now, in: tx)
        state.officerConflicts[officer] = raised
        report = raised
      }
      let told = try keepRejected(reason, conflict: report)
      return RecordAcknowledgement(
        recordID: record.recordID, outcome: .rejected, reason: told, conflict: report)
    }
    let decoder = JSONDecoder()
    let payload = Data(record.payload.utf8)
    var conflict: ConflictDraft?
    var afterInsert: (() throws -> Void)?

    if record.recordKind != .check, record.recordKind != .audit {
      // This record may change a licence: the checks after it ask central afresh.
      state.licencesAsOf.removeAll()
    }
    guard let kind = record.recordKind else {
      return try reject(
        "unknown record kind \"\(record.kind)\"; this central applies \(RecordKind.spokenList)"
      )
    }
    switch kind {
    case .audit:
      guard let entry = try? decoder.decode(AuditEntry.self, from: payload),
        entry.terminal == batch.terminal
      else { return try reject("the payload is not an audit entry of terminal \(batch.terminal)") }
      guard entry.computedHash == entry.hash else {
        return try reject("audit entry \(entry.seq) does not match its own hash (edited)")
      }
      if let existing = state.auditEntries[entry.seq] {
        return try reject(
          "audit entry \(entry.seq) of \(batch.terminal) is already recorded with hash \(existing.hash.prefix(12))…; this one differs (edited)"
        )
      }
      conflict = try self.conflict(revealedBy: entry, terminal: terminal, in: tx)
      let bypassed = conflict != nil
      state.auditEntries[entry.seq] = entry
      afterInsert = {
        try tx.insert(entry, recordID: record.recordID)
        try self.follow(entry, terminal: terminal, bypassed: bypassed, at: now, in: tx)
      }
    case .check:
      guard let check = try? decoder.decode(CheckRecord.self, from: payload) else {
        return try reject("the payload is not a check record")
      }
      if let refused = try rejectOfficer(check.officer, at: check.at, licence: nil) {
        return refused
      }
      guard check.found, let seen = check.statusSeen else { break }
      let known =
        if let found = state.licencesAsOf[record.recordID] {
          found
        } else {
          try tx.licence(check.licence, asOf: check.at)
        }
      if let known {
        if known.status.code != seen {
          if mutant != .conflictNotRecorded {
            conflict = ConflictDraft(
              kind: .staleStatus, licence: check.licence,
              description:
                "the check at \(check.at) relied on status \(seen), but central already had \(known.status.code) for this licence",
              resolution:
                "the check's conclusion is void; the officer's unit must follow up with the driver")
          }
        } else if let epoch = check.epochSeen, epoch < known.epoch {
          conflict = ConflictDraft(
            kind: .supersededEpoch, licence: check.licence,
            description:
              "the check at \(check.at) was made against e-licence epoch \(epoch); central was at epoch \(known.epoch)",
            resolution:
              "the e-licence shown was superseded; the holder must re-apply and the check be repeated"
          )
        }
      }
    case .violation:
      guard let violation = try? decoder.decode(ViolationRecord.self, from: payload) else {
        return try reject("the payload is not a violation record")
      }
      if let refused = try rejectOfficer(
        violation.officer, at: violation.at, licence: violation.licence)
      {
        return refused
      }
      guard let offence = catalogue.offence(violation.offence), offence.points == violation.points
      else {
        return try reject(
          "offence \(violation.offence) is not in catalogue \(catalogue.version) with \(violation.points) points"
        )
      }
      let window = ConflictRules.duplicateWindowSeconds
      let nearby = try tx.violations(
        licence: violation.licence, fromSeconds: violation.at.secondsSinceEpoch - window,
        toSeconds: violation.at.secondsSinceEpoch + window)
      var state = ViolationState.pending
      if mutant != .duplicateCheckSkipped,
        let twin = nearby.first(where: {
          $0.violation.offence == violation.offence && $0.violation.plate == violation.plate
            && $0.state == .pending
        })
      {
        state = .held
        conflict = ConflictDraft(
          kind: .duplicateEvent, licence: violation.licence, others: [twin.recordID],
          description:
            "\(batch.terminal) recorded offence \(violation.offence) by \(violation.plate) at \(violation.at); \(twin.terminal) recorded the same at \(twin.violation.at)",
          resolution: "the later record is held for review: no second points or fine")
      } else if let licence = try tx.licence(try CitizenID(violation.licence)) {
        let ledger = try currentLedger(licence, at: now, in: tx)
        let cycle = ledger.cycle(on: violation.at.chinaDate)
        let pending = try tx.violations(
          licence: violation.licence,
          fromSeconds: Timestamp(startOf: cycle.start).secondsSinceEpoch,
          toSeconds: Timestamp(startOf: cycle.end).secondsSinceEpoch - 1
        ).filter { $0.state == .pending }
        let before =
          ledger.total(inCycleStarting: cycle.start)
          + pending.reduce(0) { $0 + $1.violation.points }
        let after = before + violation.points
        let otherTerminals = Set(pending.map(\.terminal)).subtracting([batch.terminal])
        if PointsLedger.reachesFullScore(from: before, to: after), !otherTerminals.isEmpty {
          conflict = ConflictDraft(
            kind: .pointsCross12, licence: violation.licence, others: pending.map(\.recordID),
            description:
              "with records from \(otherTerminals.sorted().joined(separator: ", ")) merged, the licence reaches \(after) points in the cycle from \(cycle.start)",
            resolution:
              "the licence must be withheld and the holder sent to full-score education when these violations are decided (公安部令第163号 §17)"
          )
        }
      }
      let storedViolation = StoredViolation(
        recordID: record.recordID, terminal: batch.terminal, violation: violation, state: state)
      afterInsert = {
        try tx.insert(storedViolation)
        try tx.append(
          NewChange(
            entity: .violation, key: record.recordID,
            payload: try CanonicalJSON.string(storedViolation)),
          at: now,
          action: "violation.recorded", reason: nil)
      }
    case .decision, .notice, .certificate:
      guard let submission = try? decoder.decode(DocumentSubmission.self, from: payload) else {
        return try reject("the payload is not a signed penalty document")
      }
      if let refused = try rejectOfficer(
        submission.document.officer, at: submission.document.at,
        licence: submission.document.licence)
      {
        return refused
      }
      if let refusal = try refusal(of: submission, kind: kind, terminal: terminal, in: tx) {
        return try reject(refusal)
      }
      let document = submission.document
      var held = false
      if mutant != .duplicateCheckSkipped, let twin = try twin(of: document, in: tx) {
        held = true
        conflict = ConflictDraft(
          kind: .duplicateEvent, licence: document.licence,
          // The first decision by its number; the held record by its id (added below).
          others: [twin.number],
          description:
            "\(batch.terminal) decided offence \(document.charge.offence) by \(document.plate) at \(document.at) (\(document.number)); decision \(twin.number) decided the same event",
          resolution: "\(document.number) is held for review: no second points, fine or deduction")
      } else if document.kind == .decision, document.charge.points > 0,
        document.withholding == nil,
        let licence = try tx.licence(try CitizenID(document.licence))
      {
        // The terminal did not see 12 coming; with what central already has, it is reached.
        let ledger = try currentLedger(licence, at: now, in: tx)
        let cycle = ledger.cycle(on: document.at.chinaDate)
        let before = ledger.total(inCycleStarting: cycle.start)
        let after =
          before + document.charge.points * (mutant == .pointsDoubleCounted ? 2 : 1)
        if PointsLedger.reachesFullScore(from: before, to: after) {
          conflict = ConflictDraft(
            kind: .pointsCross12, licence: document.licence,
            description:
              "decision \(document.number) of \(batch.terminal) brings the licence to \(after) points in the cycle from \(cycle.start) once merged with the decisions central already had",
            resolution:
              "applied; the licence is marked as having reached 12 points (status B): it must be withheld and the holder sent to full-score education (公安部令第163号 §17)"
          )
        }
      }
      afterInsert = {
        try self.apply(document, recordID: record.recordID, held: held, at: now, in: tx)
      }
    case .void:
      guard let void = try? decoder.decode(VoidRecord.self, from: payload) else {
        return try reject("the payload is not a void record")
      }
      if let refused = try rejectOfficer(void.officer, at: void.at, licence: nil) {
        return refused
      }
      guard let (document, state) = try tx.document(void.number),
        document.terminal == batch.terminal
      else {
        return try reject(
          "document \(void.number) was not issued by terminal \(batch.terminal); a terminal voids only its own"
        )
      }
      if state == .voided { break }
      if let deduction = try tx.deduction(void.number), deduction.state == .settled {
        conflict = ConflictDraft(
          kind: .voidAfterDeduction, licence: document.licence,
          description:
            "decision \(void.number) was voided at \(void.at) (\(void.reason)) after its fine of \(deduction.amount?.yuanText ?? "?") was deducted",
          resolution: "the points are revoked and the deduction is refunded once")
      } else if let deduction = try tx.deduction(void.number),
        deduction.state == .requested || deduction.state == .unknown
      {
        // Sent to the bank, answer not yet known: the bank may already have taken the fine.
        conflict = ConflictDraft(
          kind: .voidAfterDeduction, licence: document.licence,
          description:
            "decision \(void.number) was voided at \(void.at) (\(void.reason)) while its deduction was with the bank (\(deduction.state))",
          resolution:
            "the points are revoked; the bank is asked to cancel the deduction and refunds it once if it had taken the fine"
        )
      }
      afterInsert = { try self.applyVoid(void, document: document, at: now, in: tx) }
    case .pinChange:
      guard let change = try? decoder.decode(PINChangeRecord.self, from: payload) else {
        return try reject("the payload is not a PIN change")
      }
      if let refused = try rejectOfficer(change.officer, at: change.at, licence: nil) {
        try resend(officer: change.officer, to: terminal, at: now, in: tx)
        return refused
      }
      if let refusal = try pinChangeRefusal(change, in: tx) {
        try resend(officer: change.officer, to: terminal, at: now, in: tx)
        return try reject(refusal)
      }
      afterInsert = { try self.apply(change, terminal: terminal, at: now, in: tx) }
    }

    // A terminal clock off by more than the threshold, against central's receipt or
    // against the terminal's own previous record.
    if conflict == nil {
      let skew = ConflictRules.clockSkewSeconds
      // The record this batch stored just before, when it is the one right before in the
      // terminal's order (nothing can lie between two consecutive numbers); else a query.
      let previous =
        if let last = state.lastStored, last.terminalSeq == record.terminalSeq - 1 {
          last
        } else {
          try tx.lastRecord(terminal: batch.terminal, before: record.terminalSeq)
        }
      let ahead =
        mutant == .clockSkewSign
        ? now.secondsSinceEpoch > record.createdAt.secondsSinceEpoch + skew
        : record.createdAt.secondsSinceEpoch > now.secondsSinceEpoch + skew
      if ahead {
        conflict = ConflictDraft(
          kind: .clockSkew, licence: nil,
          description:
            "record \(record.terminalSeq) is dated \(record.createdAt), \(record.createdAt.secondsSinceEpoch - now.secondsSinceEpoch) s after central received it",
          resolution:
            "applied; the terminal's clock must be corrected and its record times reviewed")
      } else if let previous,
        previous.createdAt.secondsSinceEpoch > record.createdAt.secondsSinceEpoch + skew
      {
        conflict = ConflictDraft(
          kind: .clockSkew, licence: nil,
          description:
            "record \(record.terminalSeq) is dated \(record.createdAt), before the terminal's previous record \(previous.terminalSeq) at \(previous.createdAt)",
          resolution:
            "applied; the terminal's clock must be corrected and its record times reviewed")
      }
    }

    var report: ConflictReport?
    if let conflict {
      report = try tx.insertConflict(
        kind: conflict.kind, terminal: batch.terminal, records: conflict.others + [record.recordID],
        licence: conflict.licence, detectedAt: now, description: conflict.description,
        resolution: conflict.resolution)
      try log(report!, at: now, in: tx)
    }
    let outcome: RecordOutcome = report == nil ? .accepted : .conflict
    let kept = stored(
      record, batch: batch, at: now, outcome: outcome, reason: nil, conflict: report)
    try tx.insert(kept)
    state.lastStored = kept
    try afterInsert?()
    return RecordAcknowledgement(recordID: record.recordID, outcome: outcome, conflict: report)
  }
}

struct ConflictDraft {
  let kind: ConflictKind
  let licence: String?
  var others: [String] = []
  let description: String
  let resolution: String
}
