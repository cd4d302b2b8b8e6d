import Foundation
public import RoadsideBankProtocol
public import RoadsideDomain
import RoadsideStorage

// The simulated bank: accounts with balances, the mandates drivers gave, and the deduction
// API of `RoadsideBankProtocol`, whose idempotency key is the penalty decision number. It
// keeps its own SQLite file (`bank/bank.sqlite` under the home) and knows nothing of
// central's tables.

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
