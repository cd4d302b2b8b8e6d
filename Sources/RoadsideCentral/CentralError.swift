/// Why a central-store operation did not happen. Each description is one sentence that
/// says what is wrong and what to do.
public struct CentralError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// No central store at the home directory, or no such licence (exit 66).
    case notFound
    /// The store file is not usable: not SQLite, damaged, foreign or too new (exit 65).
    case unusableStore
    /// A store already exists where a new one was to be created (exit 73).
    case alreadyExists
    /// The request breaks a rule of the protocol or the store's state; the string is a
    /// stable machine-readable code (`terminal_revoked`, `key_mismatch`, …) (exit 65).
    case refused(String)
  }

  public let kind: Kind
  public let description: String

  public init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}
