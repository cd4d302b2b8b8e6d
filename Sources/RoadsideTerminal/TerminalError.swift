/// Why a terminal operation did not happen; one sentence saying what to do.
public struct TerminalError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// No such terminal in the home, nothing cached (exit 66).
    case notFound
    /// The terminal's file is damaged or foreign (exit 65).
    case unusable
    /// No officer is logged in, the session expired, the PIN was wrong or the officer is
    /// locked out (exit 77, permission denied).
    case notAuthorised
    /// The officer's PIN is initial: a new one must be chosen to log in (exit 77).
    case pinChangeRequired
    /// What was typed cannot be used, such as a weak new PIN (exit 65).
    case badInput
    /// The terminal exists already (exit 73).
    case alreadyExists
    /// Central sent something this terminal cannot apply (exit 76, protocol error).
    case protocolViolation
  }

  public let kind: Kind
  public let description: String

  public init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}
