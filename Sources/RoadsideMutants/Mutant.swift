/// One deliberate bug, compiled into central or the terminal and switched on only by
/// `roadside simulate --mutant NAME` (or `scenario run --mutant NAME`): each is a mistake a
/// real implementation could make, and the simulation's invariants must catch every one
/// (BENCHMARKS.md: the seeds each needed). Nothing in a deployment sets one: `central
/// serve`, `terminal` and every other command run without.
public enum Mutant: String, Sendable, CaseIterable, Codable {
  /// Central applies a record it already has instead of acknowledging a duplicate: the
  /// second apply hits the record's key, the batch fails, and the terminal's outbox never
  /// empties.
  case pushAppliedTwice = "push-applied-twice"
  /// Central skips the duplicate-event check: one red light recorded by two officers
  /// minutes apart scores twice and raises no `duplicate_event`.
  case duplicateCheckSkipped = "duplicate-check-skipped"
  /// A suspension or reinstatement at central changes the licence but writes no change-log
  /// entry, so no terminal hears of it.
  case changeNotLogged = "change-not-logged"
  /// The terminal saves its pull cursor in a transaction of its own before the changes it
  /// covers: a crash between the two commits skips those changes for good.
  case cursorOutsideTransaction = "cursor-outside-transaction"
  /// A deduction whose outcome is unknown is retried under a new idempotency key, so a bank
  /// that had taken the fine takes it again.
  case deductionNewKey = "deduction-new-key"
  /// Stopping a deduction the bank already settled refunds nothing: a decision voided after
  /// its fine was deducted keeps the money taken.
  case voidForgetsRefund = "void-forgets-refund"
  /// A check that relied on a status central had already changed raises no `stale_status`
  /// conflict.
  case conflictNotRecorded = "conflict-not-recorded"
  /// The 12-point check counts the new decision's points twice, so central reports licences
  /// reaching 12 that do not.
  case pointsDoubleCounted = "points-double-counted"
  /// The clock-skew check has its sign reversed: records that arrive late are called
  /// skewed, and a clock running ahead is not.
  case clockSkewSign = "clock-skew-sign"
  /// The terminal applies a pulled licence but keeps the status it had cached.
  case statusNotCached = "status-not-cached"
  /// A fine paid at a counter leaves its deduction queued, so the bank takes it as well.
  case counterPaymentKeepsDeduction = "counter-payment-keeps-deduction"

  /// Where the bug lives.
  public var part: String {
    switch self {
    case .cursorOutsideTransaction, .statusNotCached: "terminal"
    default: "central"
    }
  }

  /// One line for `--list-mutants`.
  public var summary: String {
    switch self {
    case .pushAppliedTwice: "a record already stored is applied again, not acknowledged"
    case .duplicateCheckSkipped: "the duplicate-event check is skipped"
    case .changeNotLogged: "a suspension or reinstatement writes no change-log entry"
    case .cursorOutsideTransaction: "the pull cursor is saved before, not with, its changes"
    case .deductionNewKey: "an unknown deduction is retried under a new key"
    case .voidForgetsRefund: "a void after the deduction is settled refunds nothing"
    case .conflictNotRecorded: "a stale-status check raises no conflict"
    case .pointsDoubleCounted: "the 12-point check counts the new points twice"
    case .clockSkewSign: "the clock-skew check has its sign reversed"
    case .statusNotCached: "a pulled licence keeps its cached status"
    case .counterPaymentKeepsDeduction: "a counter payment leaves the deduction queued"
    }
  }

  /// The names, for messages.
  public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
