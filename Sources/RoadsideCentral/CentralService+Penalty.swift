import Crypto
import Foundation
public import RoadsideBankProtocol
public import RoadsideDomain
import RoadsideFixtures
import RoadsideMutants
public import RoadsideProtocol
import RoadsideStorage

/// A bank deduction of one fine, as central drives it through ``DeductionState``: `unknown`
/// means no answer (unavailable, timeout, or central stopped after the call), and the bank
/// answers a retry with the same key with its first result; a cancel the bank answers with
/// "settled after all" goes `refundPending` → `reversed`.
public struct Deduction: Sendable, Codable, Equatable {
  public let decision: String
  public let licence: String
  public let bank: String
  public let account: String
  public let fine: Money
  public let servedOn: LocalDate
  /// Fixed by the first attempt: fine plus the surcharge due on that day.
  public let amount: Money?
  public let state: DeductionState
  public let reason: String?
  public let attempts: Int
  public let updatedAt: Timestamp
  public let settledAt: Timestamp?
  public let reversedAt: Timestamp?
}

/// What one run of the deduction driver did.
public struct DeductionRun: Sendable, Codable, Equatable {
  public var settled: [String] = []
  public var failed: [String] = []
  public var unknown: [String] = []
  public var cancelled: [String] = []
  public var reversed: [String] = []

  public init() {}
}

/// One difference between central's deductions and the bank's statement.
public struct ReconciliationDifference: Sendable, Codable, Equatable {
  public let key: String
  /// `missing_at_central`, `missing_at_bank`, `amount_differs`, `refund_missing_at_central`,
  /// `refund_missing_at_bank`.
  public let kind: String
  public let central: Money?
  public let bank: Money?
  public let description: String
}

public struct Reconciliation: Sendable, Codable, Equatable {
  public let date: LocalDate
  public let centralDeductions: Int
  public let bankDeductions: Int
  public let centralRefunds: Int
  public let bankRefunds: Int
  public let differences: [ReconciliationDifference]
}

/// Reading penalties, number ranges and deductions; ``Access`` implements it.
public protocol CentralPenaltyReading {
  func numberRanges(terminal: String) throws -> [NumberRange]
  func highestSerial(region: String, year: Int) throws -> Int
  func document(_ number: String) throws -> (document: PenaltyDocument, state: DocumentState)?
  func decision(_ number: String) throws -> StoredDecision?
  func deduction(_ decision: String) throws -> Deduction?
  func deductions(states: [DeductionState]) throws -> [Deduction]
  func allDeductions() throws -> [Deduction]
}

/// Writing them.
public protocol CentralPenaltyStore: CentralPenaltyReading {
  func insert(_ range: NumberRange, at: Timestamp) throws
  func insertDocument(_ document: PenaltyDocument, recordID: String, state: DocumentState)
    throws
  func setDocumentState(_ number: String, _ state: DocumentState) throws
  func setDecision(_ number: String, paid: Bool, state: DecisionState) throws
  func insertDeduction(
    decision: String, licence: String, bank: String, account: String, fine: Money,
    servedOn: LocalDate, at: Timestamp) throws
  func updateDeduction(
    _ decision: String, state: DeductionState, reason: String?, amount: Money?, attempt: Bool,
    at: Timestamp) throws
}

extension CentralService {
  /// The region of the authority numbering documents (Beijing).
  static let documentRegion = "110000"

  /// Allocates `size` fresh serials to `terminal` for this year, after every serial used or
  /// allocated so far, and logs the range for the terminal to pull.
  @discardableResult
  func allocateRange(
    terminal: String, size: Int? = nil, at now: Timestamp, in tx: any CentralWriting
  ) throws -> NumberRange {
    let configured = try tx.meta("numbers_per_range").flatMap { Int($0) }
    let size = size ?? configured ?? NumberRange.standardSize
    let year = now.chinaDate.year
    let first = try tx.highestSerial(region: CentralService.documentRegion, year: year) + 1
    let range = NumberRange(
      terminal: terminal, region: CentralService.documentRegion, year: year, first: first,
      last: first + size - 1)
    try tx.insert(range, at: now)
    try tx.append(
      NewChange(
        entity: .numberRange, key: "\(terminal)/\(year)/\(first)",
        payload: try CanonicalJSON.string(range),
        audience: terminal
      ),
      at: now, action: "numbers.allocate", reason: nil)
    return range
  }

  /// Allocates another range to a terminal by hand.
  public func allocateNumbers(terminal: String, size: Int?) throws -> NumberRange {
    if let size, !(1...100_000).contains(size) {
      throw DomainError(.invalidData, "--size must be between 1 and 100000, not \(size)")
    }
    let now = clock.now()
    return try store.write { tx in
      _ = try requireTerminal(terminal, in: tx)
      return try allocateRange(terminal: terminal, size: size, at: now, in: tx)
    }
  }

  public func numberRanges(terminal: String) throws -> [NumberRange] {
    try store.read { try $0.numberRanges(terminal: terminal) }
  }

  // MARK: - Documents pushed by terminals

  /// Re-runs the domain's checks on a submitted document: signature, number, offence, fine,
  /// points, procedure. Returns why it is refused, or nil.
  func refusal(
    of submission: DocumentSubmission, kind: RecordKind, terminal: TerminalState,
    in tx: any CentralWriting
  ) throws -> String? {
    let document = submission.document
    guard RecordKind(document.kind) == kind, document.terminal == terminal.id else {
      return
        "the document is a \(document.kind.rawValue) of \(document.terminal), pushed as a \(kind.rawValue) by \(terminal.id)"
    }
    guard submission.isSigned(byBase64Key: terminal.publicKey) else {
      return "document \(document.number) is not signed by terminal \(terminal.id)"
    }
    guard
      try tx.numberRanges(terminal: terminal.id).contains(where: { $0.contains(document.number) })
    else {
      return "document number \(document.number) was not allocated to terminal \(terminal.id)"
    }
    if let existing = try tx.document(document.number) {
      return
        "document number \(document.number) was already used, for a \(existing.document.kind) of \(existing.document.terminal)"
    }
    guard let offence = catalogue.offence(document.charge.offence) else {
      return "offence \(document.charge.offence) is not in catalogue \(catalogue.version)"
    }
    do {
      try document.check(against: offence)
    } catch {
      return error.description
    }
    guard try tx.licence(try CitizenID(document.licence)) != nil else {
      return "licence \(document.licence) is not in the central store"
    }
    return nil
  }

  /// A decision of another terminal for the same event: same licence, offence and plate
  /// within the duplicate window.
  func twin(of document: PenaltyDocument, in tx: any CentralWriting) throws -> StoredDecision? {
    let window = ConflictRules.duplicateWindowSeconds
    return try tx.decisions(for: try CitizenID(document.licence)).first { other in
      guard other.state == .effective, other.offence == document.charge.offence,
        other.plate == document.plate,
        let stored = try? tx.document(other.number)
      else { return false }
      return stored.document.terminal != document.terminal
        && abs(stored.document.at.secondsSinceEpoch - document.at.secondsSinceEpoch) <= window
    }
  }

  /// Applies an accepted document: a decision enters the decisions, the points ledger (the
  /// 12-point rule at work) and, with an active mandate and a fine, the deduction queue; a
  /// stop's withholding (every document of the stop carries it, the certificate above all)
  /// withholds the licence. Each once: the record id and the document
  /// number are both primary keys.
  func apply(
    _ document: PenaltyDocument, recordID: String, held: Bool, at now: Timestamp,
    in tx: any CentralWriting
  ) throws {
    try tx.insertDocument(document, recordID: recordID, state: held ? .held : .effective)
    guard !held else { return }
    let number = try CitizenID(document.licence)
    var licence = try requireLicence(number, in: tx)
    let before = licence
    if document.withholding != nil, !licence.status.contains(.withheld),
      !licence.status.isTerminal
    {
      licence = try licence.withholding()
    }
    if document.kind == DocumentKind.decision {
      let decidedOn = document.at.chinaDate
      let paid = document.charge.fine == .zero
      let stored = StoredDecision(
        number: document.number, licence: number, plate: document.plate,
        offence: document.charge.offence, decidedOn: decidedOn, fine: document.charge.fine,
        points: document.charge.points, paid: paid, place: document.place, state: .effective)
      try tx.insert(stored)
      try tx.append(
        NewChange(entity: .decision, key: stored.number, payload: try CanonicalJSON.string(stored)),
        at: now, action: "decision.applied", reason: nil)
      if document.charge.points > 0 {
        licence = try recordPoints(of: stored, licence: licence, at: now, in: tx).licence
      }
      if !paid, let mandate = try tx.mandates(for: number).first(where: \.isActive) {
        try tx.insertDeduction(
          decision: stored.number, licence: number.value, bank: mandate.bank,
          account: mandate.account, fine: stored.fine, servedOn: decidedOn, at: now)
        try logDeduction(stored.number, action: "deduction.created", at: now, in: tx)
      }
    }
    if licence != before {
      try tx.update(licence)
      try tx.append(
        NewChange(entity: .licence, key: number.value, payload: try CanonicalJSON.string(licence)),
        at: now, action: "decision.applied", reason: nil)
    }
    // Top up the terminal's numbers before it runs out (it learns of them on its next pull).
    let ranges = try tx.numberRanges(terminal: document.terminal)
    let allocated = ranges.reduce(0) { $0 + $1.size }
    let used = Int(document.number.suffix(8)) ?? 0
    let left = ranges.reduce(0) { $0 + max(0, $1.last - max(used, $1.first - 1)) }
    if NumberRange.isLow(left: left, allocated: allocated) {
      try allocateRange(terminal: document.terminal, at: now, in: tx)
    }
  }

  /// Voids a document: its points are revoked, its deduction cancelled, or refunded when
  /// the bank already settled it (the conflict says so).
  func applyVoid(
    _ void: VoidRecord, document: PenaltyDocument, at now: Timestamp, in tx: any CentralWriting
  ) throws {
    try tx.setDocumentState(document.number, .voided)
    guard document.kind == .decision, let decision = try tx.decision(document.number)
    else {
      return
    }
    try tx.setDecision(decision.number, paid: decision.paid, state: .revoked)
    let updated = try tx.decision(decision.number)!
    try tx.append(
      NewChange(
        entity: .decision, key: decision.number, payload: try CanonicalJSON.string(updated)),
      at: now, action: "decision.voided", reason: void.reason)
    if decision.points > 0 {
      let number = decision.licence
      let licence = try requireLicence(number, in: tx)
      var ledger = try currentLedger(licence, at: now, in: tx)
      if ledger.entries.contains(where: { $0.decisionNumber == decision.number && !$0.revoked }) {
        _ = try ledger.revoke(decisionNumber: decision.number)
        try tx.save(ledger, for: number)
        try tx.append(
          NewChange(entity: .points, key: number.value, payload: try CanonicalJSON.string(ledger)),
          at: now, action: "decision.voided", reason: void.reason)
      }
    }
    try stopDeduction(decision.number, at: now, in: tx)
  }

  /// Stops a fine's deduction because the fine is no longer owed through it: nothing sent
  /// yet → cancelled; sent and settled → refund; sent, outcome unknown → ask the bank to
  /// cancel the key (it refunds if it had settled).
  func stopDeduction(_ decision: String, at now: Timestamp, in tx: any CentralWriting) throws {
    guard let deduction = try tx.deduction(decision) else { return }
    let next: DeductionState
    switch deduction.state {
    case .pending, .failed: next = .cancelled
    case .settled where mutant == .voidForgetsRefund: return
    case .settled: next = .refundPending
    case .requested, .unknown: next = .cancelPending
    case .cancelPending, .cancelled, .refundPending, .reversed: return
    }
    try tx.updateDeduction(
      decision, state: next, reason: deduction.reason, amount: deduction.amount, attempt: false,
      at: now)
    try logDeduction(decision, action: "deduction.\(next.rawValue)", at: now, in: tx)
  }

  func logDeduction(
    _ decision: String, action: String, at now: Timestamp, in tx: any CentralWriting
  ) throws {
    guard let deduction = try tx.deduction(decision) else { return }
    try tx.append(
      NewChange(entity: .deduction, key: decision, payload: try CanonicalJSON.string(deduction)),
      at: now, action: action, reason: nil)
  }

  // MARK: - Counter payment

  /// A fine paid at a counter (or anywhere but the bank): the decision is paid, and its
  /// deduction is cancelled — or refunded, if the bank already took it.
  public func payAtCounter(_ number: String) throws -> (
    decision: StoredDecision, conflict: ConflictReport?
  ) {
    let now = clock.now()
    return try store.write { tx in
      guard let decision = try tx.decision(number) else {
        throw CentralError(
          .notFound, "no decision \(number) in the central store; check the number")
      }
      guard decision.state == .effective else {
        throw DomainError(.notPermitted, "decision \(number) is \(decision.state); nothing is owed")
      }
      guard !decision.paid else {
        throw DomainError(.notPermitted, "the fine of decision \(number) is already paid")
      }
      var conflict: ConflictReport?
      if let deduction = try tx.deduction(number),
        deduction.state.mayStillSettle
      {
        if mutant != .counterPaymentKeepsDeduction {
          try stopDeduction(number, at: now, in: tx)
        }
        let issuer = try tx.document(number)?.document.terminal ?? "central"
        conflict = try tx.insertConflict(
          kind: .paidBeforeDeduction, terminal: issuer, records: [number],
          licence: decision.licence.value, detectedAt: now,
          description:
            "the fine of decision \(number) was paid at a counter while its bank deduction was \(deduction.state)",
          resolution: deduction.state == .pending || deduction.state == .failed
            ? "the deduction is cancelled; nothing was taken from the bank account"
            : "the bank is asked to cancel the deduction; if it had already taken the fine, it is refunded"
        )
        try tx.append(
          NewChange(
            entity: .conflict, key: conflict!.id, payload: try CanonicalJSON.string(conflict!)),
          at: now, action: "conflict.detected", reason: nil)
      }
      try markPaid(decision, at: now, action: "decision.paid", in: tx)
      return (try tx.decision(number)!, conflict)
    }
  }

  func markPaid(
    _ decision: StoredDecision, at now: Timestamp, action: String, in tx: any CentralWriting
  ) throws {
    try tx.setDecision(decision.number, paid: true, state: decision.state)
    try tx.append(
      NewChange(
        entity: .decision, key: decision.number,
        payload: try CanonicalJSON.string(try tx.decision(decision.number)!)),
      at: now, action: action, reason: nil)
    let licence = try requireLicence(decision.licence, in: tx)
    var ledger = try currentLedger(licence, at: now, in: tx)
    if ledger.entries.contains(where: { $0.decisionNumber == decision.number }) {
      try ledger.markFinePaid(decisionNumber: decision.number)
      try tx.save(ledger, for: decision.licence)
      try tx.append(
        NewChange(
          entity: .points, key: decision.licence.value, payload: try CanonicalJSON.string(ledger)),
        at: now, action: action, reason: nil)
    }
    // A paper licence withheld at the stop for a fine alone is returned once the fine is paid
    // (公安部令第157号 §32); a withholding for 12 points waits for education (163号 §23).
    if let noticeNumber = try tx.notice(decidedBy: decision.number),
      let (notice, _) = try tx.document(noticeNumber), notice.withholding != nil,
      let (made, _) = try tx.document(decision.number), made.charge.measure == .none,
      licence.status.contains(.withheld), !licence.status.contains(.pointsFull)
    {
      let returned = licence.removingWithholding()
      try tx.update(returned)
      try tx.append(
        NewChange(
          entity: .licence, key: returned.number.value, payload: try CanonicalJSON.string(returned)),
        at: now, action: action, reason: "fine paid: the withheld paper licence is returned")
    }
  }

  // MARK: - The deduction driver

  public func deductions() throws -> [Deduction] { try store.read { try $0.allDeductions() } }

  /// Drives every open deduction one step through the bank. Each attempt is claimed and
  /// committed before the bank is called, and its answer recorded in its own transaction:
  /// if central stops in between, the attempt is `requested` and the next run asks again
  /// with the same key, which the bank answers with its first result.
  ///
  /// Several runs may go at once, on one node or several: each deduction is claimed
  /// (``CentralStore/claimDeduction(_:)``) before the bank hears of it.
  public func runDeductions(bank: any BankClient) async throws -> DeductionRun {
    var run = DeductionRun()
    let open = try store.read {
      try $0.deductions(states: DeductionState.open)
    }
    for listed in open {
      // One worker at a time per deduction: one that another `central deduct` holds (on
      // this node or another) is left to it, and is never sent to the bank twice at once.
      guard let claim = try store.claimDeduction(listed.decision) else { continue }
      defer { claim.release() }
      // Read again under the claim: another worker may have finished it since the listing.
      guard let deduction = try store.read({ try $0.deduction(listed.decision) }),
        deduction.state == listed.state, deduction.attempts == listed.attempts
      else { continue }
      let now = clock.now()
      switch deduction.state {
      case .pending, .requested, .unknown:
        let amount =
          deduction.amount
          ?? Payment.amountDue(
            fine: deduction.fine, servedOn: deduction.servedOn, on: now.chinaDate)
        try store.write { tx in
          try tx.updateDeduction(
            deduction.decision, state: .requested, reason: nil, amount: amount, attempt: true,
            at: now)
          try logDeduction(deduction.decision, action: "deduction.requested", at: now, in: tx)
        }
        // The mutant's retry takes a key of its own, as a client that forgot idempotency would.
        let retried = mutant == .deductionNewKey && deduction.state == .unknown
        let request = DeductionRequest(
          key: retried ? "\(deduction.decision)-retry\(deduction.attempts)" : deduction.decision,
          licence: deduction.licence, account: deduction.account,
          amount: amount, at: now)
        do {
          let result = try await bank.deduct(request)
          try record(result, of: deduction.decision, run: &run)
        } catch let error as BankError where error.isRetryable {
          try store.write { tx in
            try tx.updateDeduction(
              deduction.decision, state: .unknown, reason: error.kind.rawValue, amount: amount,
              attempt: false, at: clock.now())
            try logDeduction(
              deduction.decision, action: "deduction.unknown", at: clock.now(), in: tx)
          }
          run.unknown.append(deduction.decision)
        }
      case .cancelPending:
        do {
          let result = try await bank.cancel(deduction.decision, at: now)
          if result.outcome == .settled {
            try store.write { tx in
              // Book the settlement at the bank's time, then owe the refund.
              try tx.updateDeduction(
                deduction.decision, state: .settled, reason: nil, amount: result.amount,
                attempt: false, at: result.at)
              try tx.updateDeduction(
                deduction.decision, state: .refundPending, reason: "settled before the cancel",
                amount: result.amount, attempt: false, at: clock.now())
              try logDeduction(
                deduction.decision, action: "deduction.refund_pending", at: clock.now(), in: tx)
            }
            let refund = try await bank.refund(deduction.decision, at: clock.now())
            try record(refund, of: deduction.decision, run: &run)
          } else {
            try record(result, of: deduction.decision, run: &run)
          }
        } catch let error as BankError where error.isRetryable {
          run.unknown.append(deduction.decision)
        }
      case .refundPending:
        do {
          let result = try await bank.refund(deduction.decision, at: now)
          try record(result, of: deduction.decision, run: &run)
        } catch let error as BankError where error.isRetryable {
          run.unknown.append(deduction.decision)
        }
      case .settled, .failed, .cancelled, .reversed: break
      }
    }
    return run
  }

  /// Records what the bank answered for a key, in one transaction.
  func record(_ result: DeductionResult, of decision: String, run: inout DeductionRun) throws {
    let now = clock.now()
    // nil: nothing new (no such deduction, or the outcome was already recorded).
    let state: DeductionState? = try store.write { tx in
      // The licence is locked as a void of the decision locks it, so that an answer and a
      // void at two nodes take turns: whichever comes second sees the other's outcome.
      try tx.lock(document: decision)
      guard let deduction = try tx.deduction(decision) else { return nil }
      // Another run (or an earlier answer to the same key) already recorded this outcome.
      if deduction.state == .settled, result.outcome == .settled { return nil }
      if deduction.state == .reversed, result.outcome == .reversed { return nil }
      switch result.outcome {
      case .settled:
        guard let stored = try tx.decision(decision) else { return nil }
        if stored.paid || stored.state != .effective {
          // Paid elsewhere or voided while the bank was taking it: give it back.
          try tx.updateDeduction(
            decision, state: .settled, reason: nil, amount: result.amount, attempt: false,
            at: result.at)
          try tx.updateDeduction(
            decision, state: .refundPending, reason: "settled after the fine stopped being owed",
            amount: result.amount, attempt: false, at: now)
          try logDeduction(decision, action: "deduction.refund_pending", at: now, in: tx)
          return .refundPending
        }
        try tx.updateDeduction(
          decision, state: .settled, reason: nil, amount: result.amount, attempt: false,
          at: result.at)
        try markPaid(stored, at: now, action: "deduction.settled", in: tx)
        try logDeduction(decision, action: "deduction.settled", at: now, in: tx)
        return .settled
      case .reversed:
        try tx.updateDeduction(
          decision, state: .reversed, reason: deduction.reason, amount: result.amount,
          attempt: false, at: result.refundedAt ?? now)
        try logDeduction(decision, action: "deduction.reversed", at: now, in: tx)
        return .reversed
      case .cancelled:
        try tx.updateDeduction(
          decision, state: .cancelled, reason: nil, amount: deduction.amount, attempt: false,
          at: now)
        try logDeduction(decision, action: "deduction.cancelled", at: now, in: tx)
        return .cancelled
      case .failed:
        let owed = try tx.decision(decision).map { !$0.paid && $0.state == .effective } ?? false
        try tx.updateDeduction(
          decision, state: owed ? .failed : .cancelled, reason: result.reason,
          amount: deduction.amount, attempt: false, at: now)
        try logDeduction(decision, action: "deduction.failed", at: now, in: tx)
        return owed ? .failed : .cancelled
      }
    }
    switch state {
    case .settled: run.settled.append(decision)
    case .reversed: run.reversed.append(decision)
    case .cancelled: run.cancelled.append(decision)
    case .failed: run.failed.append(decision)
    case .pending, .requested, .unknown, .cancelPending, .refundPending, nil: break
    }
    if state == .refundPending {
      // Settled after the fine stopped being owed: the refund goes out on the next run.
      run.unknown.append(decision)
    }
  }

  // MARK: - Reconciliation

  /// Compares central's deductions and refunds booked on `date` with the bank's statement.
  public func reconcile(on date: LocalDate, bank: any BankClient) async throws -> Reconciliation {
    let statement = try await bank.statement(on: date)
    let all = try deductions()
    let centralDeductions = Dictionary(
      uniqueKeysWithValues: all.filter {
        ($0.state == .settled || $0.state == .reversed || $0.state == .refundPending)
          && $0.settledAt?.chinaDate == date
      }.map { ($0.decision, $0) })
    let centralRefunds = Dictionary(
      uniqueKeysWithValues: all.filter {
        $0.state == .reversed && $0.reversedAt?.chinaDate == date
      }
      .map { ($0.decision, $0) })
    let bankDeductions = Dictionary(
      statement.filter { $0.kind == .deduction }.map { ($0.key, $0) },
      uniquingKeysWith: { a, _ in a })
    let bankRefunds = Dictionary(
      statement.filter { $0.kind == .refund }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }
    )
    var differences: [ReconciliationDifference] = []
    for key in Set(centralDeductions.keys).union(bankDeductions.keys).sorted() {
      let ours = centralDeductions[key]?.amount
      let theirs = bankDeductions[key]?.amount
      if ours == nil {
        differences.append(
          ReconciliationDifference(
            key: key, kind: "missing_at_central", central: nil, bank: theirs,
            description:
              "the bank took \(theirs!.yuanText) for \(key); central has no settled deduction"))
      } else if theirs == nil {
        differences.append(
          ReconciliationDifference(
            key: key, kind: "missing_at_bank", central: ours, bank: nil,
            description:
              "central settled \(ours!.yuanText) for \(key); the bank's statement has none"))
      } else if ours != theirs {
        differences.append(
          ReconciliationDifference(
            key: key, kind: "amount_differs", central: ours, bank: theirs,
            description:
              "central settled \(ours!.yuanText) for \(key); the bank took \(theirs!.yuanText)"))
      }
    }
    for key in Set(centralRefunds.keys).union(bankRefunds.keys).sorted() {
      if centralRefunds[key] == nil {
        differences.append(
          ReconciliationDifference(
            key: key, kind: "refund_missing_at_central", central: nil,
            bank: bankRefunds[key]?.amount,
            description: "the bank refunded \(key); central has not recorded the refund"))
      } else if bankRefunds[key] == nil {
        differences.append(
          ReconciliationDifference(
            key: key, kind: "refund_missing_at_bank", central: centralRefunds[key]?.amount,
            bank: nil,
            description: "central recorded a refund of \(key); the bank's statement has none"))
      }
    }
    return Reconciliation(
      date: date, centralDeductions: centralDeductions.count, bankDeductions: bankDeductions.count,
      centralRefunds: centralRefunds.count, bankRefunds: bankRefunds.count,
      differences: differences)
  }
}
