/// The closed sets of states a penalty document, a decision and a deduction move through.
/// Their raw values are what the stores keep and what crosses the wire, so that a state is
/// spelt once: here.

/// A closed set whose values read as their raw value wherever they are printed: in messages,
/// transcripts and tables a state is spelt as the stores and the wire spell it
/// (`refund_pending`, not `refundPending`).
public protocol SpeltByRawValue: RawRepresentable, CustomStringConvertible, Sendable
where RawValue == String {}

extension SpeltByRawValue {
  public var description: String { rawValue }
}

/// The kinds of document a stop (or the unit) issues.
public enum DocumentKind: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  /// 简易程序处罚决定书 on the spot, or 行政处罚决定书 decided at the unit.
  case decision
  /// 违法行为处理通知书: the general procedure's notice to report.
  case notice
  /// 行政强制措施凭证: the certificate of a compulsory measure (here, 扣留 of the paper licence).
  case certificate
}

/// A document as central keeps it.
public enum DocumentState: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  /// In force.
  case effective
  /// Held for review (a probable duplicate of another document).
  case held
  /// Voided by its officer.
  case voided
  /// A notice the unit has decided (公安部令第157号 §49).
  case decided
}

/// A decision in a licence's ledger.
public enum DecisionState: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case effective
  /// Voided: its points and fine no longer count.
  case revoked
}

/// A document as the issuing terminal keeps it.
public enum IssuedState: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case issued
  case voided
}

/// A bank deduction of one fine, as central drives it: `pending` (created with the decision)
/// → `requested` (an attempt claimed and committed before the bank is called) → `settled` |
/// `failed` (with the bank's reason) | `unknown` (no answer); `unknown` and a stale
/// `requested` are retried with the same key. A void after settlement goes `refundPending` →
/// `reversed`; a counter payment or a void before settlement goes `cancelPending` →
/// `cancelled`.
public enum DeductionState: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case pending
  case requested
  case settled
  case failed
  case unknown
  case cancelPending = "cancel_pending"
  case cancelled
  case refundPending = "refund_pending"
  case reversed

  /// States the deduction driver still has work in.
  public static let open: [DeductionState] = [
    .pending, .requested, .unknown, .cancelPending, .refundPending,
  ]

  /// Not yet settled and not given up: the fine may still be taken, so paying it at the
  /// counter or voiding it must cancel the deduction first.
  public var mayStillSettle: Bool {
    switch self {
    case .pending, .requested, .unknown, .failed: true
    case .settled, .cancelPending, .cancelled, .refundPending, .reversed: false
    }
  }

  /// The bank took the money at some point (whether or not it was given back since).
  public var tookMoney: Bool {
    switch self {
    case .settled, .reversed, .refundPending: true
    case .pending, .requested, .failed, .unknown, .cancelPending, .cancelled: false
    }
  }
}

/// How the party acknowledged a document (公安部令第157号 §44(四), §46(四), §25(四)).
public enum PartySignature: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  /// Signed by the party.
  case signed
  /// The party refused to sign; the officer noted the refusal.
  case refused
}

/// A full-score education exam's result (公安部令第163号 §22).
public enum ExamResult: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case passed
  case failed
}
