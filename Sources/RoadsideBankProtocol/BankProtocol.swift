public import RoadsideDomain

// What central and a bank say to each other, whichever bank it is: the deduction API
// (`POST /v1/deductions` and the rest; README, "Penalties and the bank"), its values and errors, and
// the client protocol central drives deductions through. The simulated bank
// (`RoadsideBank`) implements it in-process and over HTTP (`RoadsideBankHTTP`); central links
// only this.

/// What the bank did with a key.
public enum BankOutcome: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case settled
  /// Not settled; the result's reason says why.
  case failed
  /// The key was cancelled before any deduction.
  case cancelled
  /// Settled, then refunded.
  case reversed
}

/// `POST /v1/deductions`: take `amount` from the account the licence's mandate names.
public struct DeductionRequest: Sendable, Codable, Equatable {
  /// The idempotency key: the decision number. Keys never expire.
  public let key: String
  public let licence: String
  public let account: String
  public let amount: Money
  public let at: Timestamp

  public init(key: String, licence: String, account: String, amount: Money, at: Timestamp) {
    self.key = key
    self.licence = licence
    self.account = account
    self.amount = amount
    self.at = at
  }
}

extension DeductionRequest {
  /// Refuses a request the bank cannot honour whatever the account: an empty or overlong
  /// key, a missing licence or account, an amount of zero or less.
  public func validate() throws(BankError) {
    try Self.validate(key: key)
    guard !licence.isEmpty, !account.isEmpty else {
      throw BankError(.invalid, "a deduction needs a licence and an account")
    }
    guard amount.fen > 0 else {
      throw BankError(
        .invalid, "a deduction's amount must be more than 0, not \(amount.fen) fen")
    }
  }

  /// A key is 1 to 64 characters of letters, digits and dashes (a decision number).
  public static func validate(key: String) throws(BankError) {
    guard (1...64).contains(key.utf8.count),
      key.utf8.allSatisfy({
        (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45
      })
    else {
      throw BankError(
        .invalid, "a deduction key is 1 to 64 letters, digits or dashes (a decision number)")
    }
  }
}

/// What the bank did with a key: the first result, whenever it is asked again.
public struct DeductionResult: Sendable, Codable, Equatable {
  public let key: String
  public let outcome: BankOutcome
  /// `insufficient_funds`, `mandate_revoked`, `account_closed` or `cancelled` when not settled.
  public let reason: String?
  public let amount: Money
  public let at: Timestamp
  public let refundedAt: Timestamp?

  public init(
    key: String, outcome: BankOutcome, reason: String?, amount: Money, at: Timestamp,
    refundedAt: Timestamp? = nil
  ) {
    self.key = key
    self.outcome = outcome
    self.reason = reason
    self.amount = amount
    self.at = at
    self.refundedAt = refundedAt
  }
}

/// One line of the bank's statement for a day.
public struct StatementLine: Sendable, Codable, Equatable {
  public enum Kind: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
    case deduction
    case refund
  }

  public let key: String
  public let kind: StatementLine.Kind
  public let amount: Money
  public let at: Timestamp

  public init(key: String, kind: Kind, amount: Money, at: Timestamp) {
    self.key = key
    self.kind = kind
    self.amount = amount
    self.at = at
  }
}

/// Why a bank call did not give a result. `unavailable` and `timeout` leave the outcome
/// unknown to the caller (a timeout may come after the bank committed); the caller retries
/// with the same key.
public struct BankError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable, Codable {
    case unavailable
    case timeout
    /// The same key was used with a different amount.
    case keyReused = "key_reused"
    case notFound = "not_found"
    case invalid
    /// The request did not prove which client sent it (HTTP 401).
    case unauthenticated
    /// The bank failed (HTTP 500).
    case `internal`
  }

  public let kind: Kind
  public let description: String

  public init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }

  /// Whether the outcome is unknown and the call may be retried with the same key.
  public var isRetryable: Bool { kind == .unavailable || kind == .timeout }
}

/// How central talks to the bank, in-process or over HTTP.
public protocol BankClient: Sendable {
  func deduct(_ request: DeductionRequest) async throws -> DeductionResult
  /// What the bank did with `key`, or nil when it never saw it.
  func deduction(_ key: String) async throws -> DeductionResult?
  /// Cancels `key` when nothing was deducted yet (later deductions with it fail as
  /// `cancelled`); returns the settled result when it was.
  func cancel(_ key: String, at: Timestamp) async throws -> DeductionResult
  /// Refunds a settled deduction; idempotent.
  func refund(_ key: String, at: Timestamp) async throws -> DeductionResult
  /// Deductions and refunds booked on `date` (China time).
  func statement(on date: LocalDate) async throws -> [StatementLine]
}
