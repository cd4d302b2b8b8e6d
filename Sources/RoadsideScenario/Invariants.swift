import Foundation
import RoadsideBankProtocol
import RoadsideCentral
import RoadsideDomain
public import RoadsideProtocol
public import RoadsideStorage

/// The invariants of issue 7, read from the SQLite files themselves — central's, each
/// terminal's and the bank's — so that the deterministic simulation and the crash harness
/// (real processes killed with SIGKILL) judge a run by the same rules. Each check returns the
/// violations it found; none means the invariant holds.
///
/// The conflict checks are oracles: they work out from the records, the change log and the
/// bank's own book which divergences the workload created, without asking central's rule
/// code, and then require central to have recorded a conflict for each (and none without).
public enum Invariants {
  /// `PRAGMA integrity_check` of one file.
  public static func integrity(_ db: Connection, _ name: String) throws -> [InvariantViolation] {
    let result = try db.integrityCheck()
    return result == ["ok"]
      ? []
      : [
        .init(
          invariant: "integrity", detail: "\(name): \(result.prefix(3).joined(separator: "; "))")
      ]
  }

  /// Every record the terminal made reached central exactly once, nothing else came from it,
  /// and nothing still waits in its outbox.
  public static func recordsOnce(terminal db: Connection, id: String, central: any SQLDatabase)
    throws
    -> [InvariantViolation]
  {
    var violations: [InvariantViolation] = []
    let local = try db.fetchAll("SELECT record_id FROM outbox") { $0.text(0) }
    let pending =
      try db.fetchOne("SELECT count(*) FROM outbox WHERE state = 'pending'") { $0.int(0) } ?? 0
    let remote = try central.fetchAll(
      "SELECT record_id FROM records WHERE terminal = ?", id, map: { $0.text(0) })
    if pending > 0 {
      violations.append(
        .init(invariant: "no record lost", detail: "\(id) still has \(pending) pending records"))
    }
    if Set(local) != Set(remote) || remote.count != Set(remote).count {
      violations.append(
        .init(
          invariant: "applied exactly once",
          detail:
            "\(id): \(local.count) records made, \(remote.count) at central (\(Set(local).symmetricDifference(remote).count) differ)"
        ))
    }
    return violations
  }

  /// The terminal's cache equals central at the terminal's cursor: the cursor is central's
  /// latest change, and the licences, vehicles and decisions it holds are central's, column
  /// for column where both keep the value.
  public static func cacheConverged(
    terminal db: Connection, id: String, central: any SQLDatabase
  )
    throws -> [InvariantViolation]
  {
    var violations: [InvariantViolation] = []
    func fail(_ detail: String) {
      violations.append(.init(invariant: "caches converge", detail: "\(id): \(detail)"))
    }
    let latest = try central.fetchOne("SELECT max(seq) FROM change_log") { $0.int64(0) } ?? 0
    let cursor = try db.fetchOne("SELECT cursor FROM sync_state") { $0.int64(0) } ?? -1
    if cursor != latest { fail("cursor \(cursor), central at \(latest)") }
    // Each table's columns as both sides keep them, read by their types (a status is a
    // code, a paid flag a number).
    let text: (Row, Int32) -> String = { $0.text($1) }
    let number: (Row, Int32) -> String = { "\($0.int($1))" }
    let tables: [(String, String, String, [(Row, Int32) -> String])] = [
      (
        "licences", "SELECT number, name, classes, status, epoch FROM licences ORDER BY number",
        "SELECT number, name, classes, status, epoch FROM licences ORDER BY number",
        [text, text, text, text, number]
      ),
      (
        "vehicles", "SELECT plate, class, owner FROM vehicles ORDER BY plate",
        "SELECT plate, vehicle_class, owner FROM vehicles ORDER BY plate", [text, text, text]
      ),
      (
        "decisions", "SELECT number, licence, state, paid, points FROM decisions ORDER BY number",
        "SELECT number, licence, state, paid, points FROM decisions ORDER BY number",
        [text, text, text, number, number]
      ),
    ]
    for (name, terminalSQL, centralSQL, columns) in tables {
      let row: (Row) -> String = { row in
        columns.enumerated().map { $0.element(row, Int32($0.offset)) }.joined(separator: "|")
      }
      let cached = try db.fetchAll(terminalSQL, map: row)
      let truth = try central.fetchAll(centralSQL, map: row)
      if cached != truth {
        let differing = Set(cached).symmetricDifference(truth).count
        fail("\(name): \(cached.count) cached, \(truth.count) at central, \(differing) rows differ")
      }
    }
    return violations
  }

  /// No fine or points counted twice: one points entry per decision; the bank's book and
  /// central's deductions agree key by key (a settlement central has settled for the same
  /// amount, a refund central has reversed); nothing charged for a held duplicate; and no
  /// decision both paid at a counter and left deducted, nor voided and left deducted.
  /// With `settled` false, deductions still open at central are allowed (the harness checks
  /// between kills while work may remain); at the end of a run they are a violation.
  public static func chargedOnce(central: any SQLDatabase, bank: Connection, settled: Bool) throws
    -> [InvariantViolation]
  {
    var violations: [InvariantViolation] = []
    func fail(_ invariant: String, _ detail: String) {
      violations.append(.init(invariant: invariant, detail: detail))
    }
    let doubled = try central.fetchAll(
      "SELECT decision FROM points_entries GROUP BY decision HAVING count(*) > 1",
      map: { $0.text(0) })
    if !doubled.isEmpty { fail("points once", "\(doubled.count) decisions scored twice") }
    let atCentral = Dictionary(
      uniqueKeysWithValues: try central.fetchAll(
        "SELECT decision, state, amount_fen FROM deductions",
        map: { ($0.text(0), (try $0.value(1, as: DeductionState.self), $0.optionalInt64(2))) }))
    let counterPaid = Set(
      try central.fetchAll(
        "SELECT DISTINCT key FROM change_log WHERE entity = 'decision' AND action = 'decision.paid'",
        map: { $0.text(0) }))
    let decisions = Dictionary(
      uniqueKeysWithValues: try central.fetchAll(
        "SELECT number, state FROM decisions",
        map: { ($0.text(0), try $0.value(1, as: DecisionState.self)) }))
    let held = Set(
      try central.fetchAll("SELECT number FROM documents WHERE state = 'held'", map: { $0.text(0) })
    )
    for (key, amount, outcome) in try bank.fetchAll(
      "SELECT key, amount_fen, outcome FROM deductions ORDER BY key",
      map: { ($0.text(0), $0.int64(1), try $0.value(2, as: BankOutcome.self)) })
    {
      guard let (state, centralAmount) = atCentral[key] else {
        fail("fine once", "the bank has a deduction \(key) central never asked for")
        continue
      }
      if held.contains(key) { fail("fine once", "held duplicate \(key) reached the bank") }
      switch outcome {
      case .settled:
        if counterPaid.contains(key) {
          fail("fine once", "decision \(key) was paid at a counter and its deduction kept")
        } else if decisions[key] == .revoked && settled {
          fail("fine once", "decision \(key) is voided but its deduction was not refunded")
        }
        if settled && (state != .settled || centralAmount != amount) {
          fail("fine once", "decision \(key): the bank settled \(amount) fen, central has \(state)")
        }
      case .reversed:
        if settled && state != .reversed {
          fail("fine once", "decision \(key): refunded by the bank but \(state) at central")
        }
      case .failed, .cancelled:
        if state == .settled || state == .reversed {
          fail("fine once", "decision \(key): \(state) at central, \(outcome) at the bank")
        }
      }
    }
    for (key, entry) in atCentral where entry.0 == .settled || entry.0 == .reversed {
      if try bank.fetchOne("SELECT count(*) FROM deductions WHERE key = ?", key, map: { $0.int(0) })
        != 1
      {
        fail("fine once", "decision \(key) is \(entry.0) at central but unknown to the bank")
      }
    }
    if settled {
      // Pending is allowed: a deduction is created with its decision and waits for a run.
      let open = atCentral.values.filter { $0.0 != .pending && DeductionState.open.contains($0.0) }
        .count
      if open > 0 { fail("bank settles", "\(open) deductions still open") }
    }
    return violations
  }

  /// The divergences a workload created, each of which must have its conflict at central.
  public struct Divergences: Sendable, Equatable {
    /// Expected conflicts by kind (`stale_status`, `superseded_epoch`, `duplicate_event`,
    /// `points_cross_12`, `void_after_deduction`, `paid_before_deduction`, `clock_skew`).
    public var byKind: [ConflictKind: Int] = [:]
    /// Fines the bank took and gave back; each must be explained by a void or a payment
    /// conflict naming the decision.
    public var refunds = 0
    public var total: Int { byKind.values.reduce(0, +) }
    public init() {}
  }

  /// Works out from the files which conflicts the workload should have produced — record by
  /// record, in the order central applied them — and requires exactly those: a conflict of
  /// the right kind on every diverging record, none on any other, and as many of each kind
  /// as there were divergences.
  public static func conflictsRecorded(central: any SQLDatabase, bank: Connection) throws -> (
    Divergences, [InvariantViolation]
  ) {
    var found = Divergences()
    var violations: [InvariantViolation] = []
    func fail(_ detail: String) {
      violations.append(.init(invariant: "conflicts recorded", detail: detail))
    }
    let decoder = JSONDecoder()
    func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
      try? decoder.decode(type, from: Data(text.utf8))
    }
    struct Record {
      let id: String
      let terminal: String
      let seq: Int64
      let kind: RecordKind?
      let payload: String
      let created: Timestamp?
      let received: Timestamp?
      let rejected: Bool
      let conflict: ConflictKind?
    }
    let records = try central.fetchAll(
      """
      SELECT r.record_id, r.terminal, r.terminal_seq, r.kind, r.payload, r.created_at,
        r.received_at, r.outcome, c.kind
      FROM records r LEFT JOIN conflicts c ON c.id = r.conflict ORDER BY r.rowid
      """
    ) {
      Record(
        id: $0.text(0), terminal: $0.text(1), seq: $0.int64(2),
        kind: RecordKind(rawValue: $0.text(3)),
        payload: $0.text(4), created: Timestamp(iso: $0.text(5)),
        received: Timestamp(iso: $0.text(6)),
        rejected: try $0.value(7, as: RecordOutcome.self) == .rejected,
        conflict: try $0.optionalValue(8))
    }
    var expected: [String: ConflictKind] = [:]  // record id → the conflict it must carry

    // The change log as history: each licence's status and epoch, each deduction's state,
    // and the moments decisions were voided or paid at a counter.
    var licences: [String: [(seq: Int64, at: Timestamp, status: String, epoch: Int)]] = [:]
    var deductionStates: [String: [(seq: Int64, state: DeductionState)]] = [:]
    var voidedAt: [String: Int64] = [:]
    var counterPaid: [(number: String, seq: Int64)] = []
    var changes: [Int64: (entity: ChangeEntity?, key: String)] = [:]
    try central.forEachRow(
      "SELECT seq, at, entity, key, action, payload FROM change_log ORDER BY seq"
    ) {
      let (seq, key, action, payload) = ($0.int64(0), $0.text(3), $0.text(4), $0.text(5))
      let entity = ChangeEntity(rawValue: $0.text(2))
      changes[seq] = (entity, key)
      switch entity {
      case .licence:
        if let at = Timestamp(iso: $0.text(1)), let licence = decode(Licence.self, payload) {
          licences[key, default: []].append((seq, at, licence.status.code, licence.epoch))
        }
      case .deduction:
        if let deduction = decode(Deduction.self, payload) {
          deductionStates[key, default: []].append((seq, deduction.state))
        }
      case .decision where action == "decision.voided":
        if voidedAt[key] == nil { voidedAt[key] = seq }
      case .decision where action == "decision.paid":
        counterPaid.append((key, seq))
      default: break
      }
    }
    func deductionState(_ number: String, before seq: Int64) -> DeductionState? {
      deductionStates[number]?.last { $0.seq < seq }?.state
    }

    // Checks: what the terminal knew is central's licence as of the terminal's cursor; what
    // central knew at the check's time is its latest licence change dated no later.
    for record in records where !record.rejected && record.kind == .check {
      guard let check = decode(CheckRecord.self, record.payload), check.found,
        let changes = licences[check.licence],
        let known = changes.last(where: { $0.seq <= check.cursor }),
        let truth = changes.filter({ $0.at <= check.at }).max(by: { $0.seq < $1.seq })
      else { continue }
      if known.status != truth.status || check.statusSeen != known.status {
        expected[record.id] = .staleStatus
      } else if let epoch = check.epochSeen, epoch < truth.epoch {
        expected[record.id] = .supersededEpoch
      }
    }

    // Documents, in the order central applied them: a later decision of the same event by
    // another terminal is held; a decision that takes the licence to 12 points in its cycle
    // without the terminal having withheld it crosses unseen.
    let documents = Dictionary(
      uniqueKeysWithValues: try central.fetchAll(
        "SELECT number, record_id, state, body FROM documents WHERE record_id IS NOT NULL",
        map: {
          ($0.text(0), (record: $0.text(1), state: try $0.value(2, as: DocumentState.self)))
        }))
    let cycleOf = Dictionary(
      uniqueKeysWithValues: try central.fetchAll(
        "SELECT decision, counts_in_cycle FROM points_entries", map: { ($0.text(0), $0.text(1)) }))
    // Points on the ledger before the workload: decisions no terminal submitted.
    var running: [String: Int] = [:]  // "licence|cycle" → points
    try central.forEachRow(
      """
      SELECT licence, counts_in_cycle, points FROM points_entries
      WHERE revoked = 0 AND cleared = 0
        AND decision NOT IN (SELECT number FROM documents WHERE record_id IS NOT NULL)
      """
    ) { running["\($0.text(0))|\($0.text(1))", default: 0] += $0.int(2) }
    var standing: [PenaltyDocument] = []  // decisions effective at this point of the replay
    let window = ConflictRules.duplicateWindowSeconds
    for record in records where !record.rejected {
      switch record.kind {
      case .decision, .notice, .certificate:
        guard let document = decode(DocumentSubmission.self, record.payload)?.document,
          documents[document.number]?.record == record.id
        else { continue }
        if standing.contains(where: {
          $0.licence == document.licence && $0.terminal != document.terminal
            && $0.plate == document.plate && $0.charge.offence == document.charge.offence
            && abs($0.at.secondsSinceEpoch - document.at.secondsSinceEpoch) <= window
        }) {
          expected[record.id] = .duplicateEvent
          // Held, or held and voided since; never effective.
          if documents[document.number]?.state == .effective {
            fail(
              "\(document.number) repeats an effective decision of another terminal but was not held"
            )
          }
          continue
        }
        if documents[document.number]?.state == .held {
          fail(
            "\(document.number) is held, but no effective decision of another terminal matches it")
        }
        guard document.kind == .decision else { continue }
        standing.append(document)
        guard let cycle = cycleOf[document.number] else { continue }
        let key = "\(document.licence)|\(cycle)"
        let before = running[key, default: 0]
        running[key] = before + document.charge.points
        if document.charge.points > 0, document.withholding == nil,
          PointsLedger.reachesFullScore(from: before, to: before + document.charge.points)
        {
          expected[record.id] = .pointsCross12
        }
      case .void:
        guard let void = decode(VoidRecord.self, record.payload),
          let index = standing.firstIndex(where: { $0.number == void.number })
        else { continue }
        let document = standing.remove(at: index)
        if let cycle = cycleOf[document.number] {
          running["\(document.licence)|\(cycle)", default: 0] -= document.charge.points
        }
        if let seq = voidedAt[void.number],
          let state = deductionState(void.number, before: seq),
          [.settled, .requested, .unknown].contains(state)
        {
          expected[record.id] = .voidAfterDeduction
        }
      case .audit, .check, .violation, .pinChange, nil: continue
      }
    }

    // Clock skew, where no other conflict holds the record: dated clearly after central
    // received it, or clearly before the terminal's previous record central already had.
    var latest: [String: [(seq: Int64, created: Timestamp)]] = [:]
    let skew = ConflictRules.clockSkewSeconds
    for record in records {
      defer {
        if let created = record.created {
          latest[record.terminal, default: []].append((record.seq, created))
        }
      }
      guard !record.rejected, expected[record.id] == nil, let created = record.created,
        let received = record.received
      else { continue }
      let previous = latest[record.terminal]?.filter { $0.seq < record.seq }
        .max { $0.seq < $1.seq }
      if created.secondsSinceEpoch > received.secondsSinceEpoch + skew
        || (previous.map { $0.created.secondsSinceEpoch > created.secondsSinceEpoch + skew }
          ?? false)
      {
        expected[record.id] = .clockSkew
      }
    }

    // Each record carries exactly the conflict expected of it.
    for record in records where !record.rejected && record.conflict != expected[record.id] {
      fail(
        "record \(record.id) (\(record.kind.map(\.rawValue) ?? "?")) has \(record.conflict?.rawValue ?? "no conflict"), expected \(expected[record.id]?.rawValue ?? "none")"
      )
    }
    for kind in expected.values { found.byKind[kind, default: 0] += 1 }

    // Counter payments while a deduction was open name the decision in their own conflict.
    let paymentConflicts = try central.fetchAll(
      "SELECT records FROM conflicts WHERE kind = 'paid_before_deduction'", map: { $0.text(0) })
    for (number, paid) in counterPaid {
      // The payment's own transaction stops the deduction, then logs its conflict, just
      // before marking the decision paid: the state that counts is the one before those.
      var seq = paid
      if changes[seq - 1]?.entity == .conflict {
        seq -= 1
        if let stop = changes[seq - 1], stop.entity == .deduction, stop.key == number { seq -= 1 }
      }
      guard deductionState(number, before: seq)?.mayStillSettle == true else { continue }
      found.byKind[.paidBeforeDeduction, default: 0] += 1
      if !paymentConflicts.contains(where: { $0.contains(number) }) {
        fail(
          "decision \(number) was paid at a counter while its deduction was open, without a conflict"
        )
      }
    }
    if paymentConflicts.count != found.byKind[.paidBeforeDeduction, default: 0] {
      fail(
        "\(paymentConflicts.count) paid_before_deduction conflicts for \(found.byKind[.paidBeforeDeduction, default: 0]) counter payments over an open deduction"
      )
    }

    // Every fine the bank gave back is explained by a conflict naming its decision.
    let refundConflicts = try central.fetchAll(
      """
      SELECT c.records || ' ' || coalesce(r.payload, '') FROM conflicts c
      LEFT JOIN records r ON r.conflict = c.id
      WHERE c.kind IN ('void_after_deduction', 'paid_before_deduction')
      """, map: { $0.text(0) })
    for key in try bank.fetchAll(
      "SELECT key FROM deductions WHERE outcome = 'reversed' ORDER BY key", map: { $0.text(0) })
    {
      found.refunds += 1
      if !refundConflicts.contains(where: { $0.contains(key) }) {
        fail(
          "the bank refunded \(key), and no void_after_deduction or paid_before_deduction conflict names it"
        )
      }
    }
    let total =
      try central.fetchOne("SELECT count(*) FROM conflicts", map: { $0.int(0) }) ?? 0
    if total != found.total {
      fail("central has \(total) conflicts for \(found.total) divergences")
    }
    return (found, violations)
  }
}

/// The properties of a day, watched while it is lived (in the manner of jepsen-powersync),
/// not only at its end: after each of a terminal's syncs —
/// - **monotonic reads**: its cursor never goes back, and nothing in its cache returns to an
///   older state: a licence's epoch never decreases, a decision never goes from revoked back
///   to effective nor from paid back to unpaid;
/// - **read your writes**: after a sync that emptied its outbox, every decision central holds
///   from this terminal is in its cache;
///
/// and once the faults stop (``Action/settle``), **convergence** within
/// ``PropertyWatch/roundBound`` rounds of syncing every terminal: every outbox empty and every
/// cursor at central's latest change.
public struct PropertyWatch: Sendable {
  /// Rounds of syncing every terminal within which a healed world must converge: one to
  /// push what waits, one for each terminal to pull what the others pushed after its turn,
  /// and one to spare.
  public static let roundBound = 3

  var cursors: [String: Int64] = [:]
  /// Licence numbers by place, shared by every terminal (their caches hold the same
  /// licences), and each terminal's epochs in that order (-1: not cached): a fleet of a
  /// thousand caches keeps one table of numbers, not a thousand.
  var licenceIndex: [String: Int] = [:]
  var epochs: [String: [Int32]] = [:]
  var decisions: [String: [String: (revoked: Bool, paid: Bool)]] = [:]
  /// Each property reported once per terminal: the first time it failed.
  var reported: Set<String> = []
  public private(set) var violations: [InvariantViolation] = []
  /// The rounds the last settling took to converge (nil: it did not within its limit).
  public internal(set) var rounds: Int?

  public init() {}

  mutating func fail(_ property: String, _ id: String, _ detail: String) {
    guard reported.insert("\(property)|\(id)").inserted else { return }
    violations.append(InvariantViolation(invariant: property, detail: "\(id): \(detail)"))
  }

  /// Looks at terminal `id` after a sync; `synced`: the sync got through and left the outbox
  /// empty.
  public mutating func observe(
    terminal id: String, db: Connection, central: any SQLDatabase, synced: Bool
  ) throws {
    let cursor = try db.fetchOne("SELECT cursor FROM sync_state") { $0.int64(0) } ?? 0
    if let before = cursors[id], cursor < before {
      fail("monotonic reads", id, "the cursor went back from \(before) to \(cursor)")
    }
    cursors[id] = cursor
    let before = epochs[id] ?? []
    var now = [Int32](repeating: -1, count: licenceIndex.count)
    for (number, epoch) in try db.fetchAll(
      "SELECT number, epoch FROM licences",
      map: {
        ($0.text(0), Int32($0.int(1)))
      })
    {
      let place: Int
      if let known = licenceIndex[number] {
        place = known
      } else {
        place = licenceIndex.count
        licenceIndex[number] = place
      }
      if place >= now.count { now += [Int32](repeating: -1, count: place - now.count + 1) }
      now[place] = epoch
      if place < before.count, epoch < before[place] {
        fail(
          "monotonic reads", id,
          "licence \(CitizenID.masked(number)) went back from epoch \(before[place]) to \(epoch)")
      }
    }
    epochs[id] = now
    let decisions = Dictionary(
      uniqueKeysWithValues: try db.fetchAll("SELECT number, state, paid FROM decisions") {
        ($0.text(0), (revoked: $0.text(1) == "revoked", paid: $0.int(2) != 0))
      })
    for (number, now) in decisions {
      guard let before = self.decisions[id]?[number] else { continue }
      if before.revoked && !now.revoked {
        fail("monotonic reads", id, "decision \(number) went back from revoked to effective")
      } else if before.paid && !now.paid {
        fail("monotonic reads", id, "decision \(number) went back from paid to unpaid")
      }
    }
    self.decisions[id] = decisions
    guard synced else { return }
    let own = try central.fetchAll(
      """
      SELECT d.number FROM decisions d JOIN documents doc ON doc.number = d.number
      WHERE doc.terminal = ? ORDER BY d.number
      """, id, map: { $0.text(0) })
    let missing = own.filter { decisions[$0] == nil }
    if let first = missing.first {
      fail(
        "read your writes", id,
        "after a sync that emptied its outbox, \(missing.count) of its \(own.count) decisions at central are not in its cache (first \(first))"
      )
    }
  }
}
