public import RoadsideDomain

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
    /// The request breaks a rule of the protocol or the store's state, with its stable
    /// machine-readable code (exit 65).
    case refused(Refusal)
  }

  /// Why central refused a request that was well formed. The raw value is the code the
  /// protocol sends.
  public enum Refusal: String, Sendable, Equatable, CaseIterable, SpeltByRawValue {
    case applicationPending = "application_pending"
    case badPublicKey = "bad_public_key"
    case keyExists = "key_exists"
    case keyInUse = "key_in_use"
    case keyNotActive = "key_not_active"
    case keyRevoked = "key_revoked"
    case noActiveKey = "no_active_key"
    case terminalEnrolled = "terminal_enrolled"
    case terminalExists = "terminal_exists"
    case terminalRevoked = "terminal_revoked"

    /// The HTTP status the refusal travels with: a revoked terminal is forbidden for good
    /// (403); every other refusal conflicts with central's state and may clear (409).
    public var httpStatus: Int {
      switch self {
      case .terminalRevoked: 403
      case .applicationPending, .badPublicKey, .keyExists, .keyInUse, .keyNotActive, .keyRevoked,
        .noActiveKey, .terminalEnrolled, .terminalExists:
        409
      }
    }
  }

  public let kind: Kind
  public let description: String

  public init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}
