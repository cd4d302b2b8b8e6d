import Foundation
public import RoadsideDomain
import RoadsideStorage

// The simulated bank: accounts with balances, the mandates drivers gave, and a deduction
// API whose idempotency key is the penalty decision number. It keeps its own SQLite file
// (`bank/bank.sqlite` under the home) and knows nothing of central's tables.

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
  /// `settled`, `failed`, `cancelled` (the key was cancelled before any deduction) or
  /// `reversed` (settled, then refunded).
  public let outcome: String
  /// `insufficient_funds`, `mandate_revoked`, `account_closed` or `cancelled` when not settled.
  public let reason: String?
  public let amount: Money
  public let at: Timestamp
  public let refundedAt: Timestamp?

  public init(
    key: String, outcome: String, reason: String?, amount: Money, at: Timestamp,
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
  public let key: String
  /// `deduction` or `refund`.
  public let kind: String
  public let amount: Money
  public let at: Timestamp
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

/// A fault the bank injects into its next calls (`after` calls skipped first, then `times`
/// calls affected).
public struct BankFault: Sendable, Codable, Equatable {
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// The deduction fails as if the balance were too low.
    case insufficientFunds = "insufficient-funds"
    /// The deduction fails as if the driver had revoked the mandate.
    case mandateRevoked = "mandate-revoked"
    /// The deduction fails as if the account were closed.
    case accountClosed = "account-closed"
    /// The call fails before the bank does anything.
    case unavailable
    /// The bank commits, then the caller's wait runs out: the outcome is unknown to it.
    case timeoutAfterCommit = "timeout-after-commit"
    /// The bank answers after `delayMilliseconds`.
    case slow
  }

  public let id: Int
  public let kind: Kind
  public let after: Int
  public let times: Int
  public let delayMilliseconds: Int
}
