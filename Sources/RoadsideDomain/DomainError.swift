/// A rule of the domain refused an input or an operation.
///
/// Each case's description is one sentence naming what is wrong and, where it helps,
/// what to do; the CLI prints it as it is. `kind` says how the CLI maps it to an exit code.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The input is malformed or breaks a rule (exit code 65).
    case invalidData
    /// The operation is not allowed in the current state (exit code 65).
    case notPermitted
  }

  public let kind: Kind
  public let description: String

  public init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }

  static func invalid(_ text: String) -> DomainError { DomainError(.invalidData, text) }
  static func refused(_ text: String) -> DomainError { DomainError(.notPermitted, text) }
}

/// A value that travels as one JSON string and is checked by the domain's rules on the
/// way in: a decoding error then carries the rule's own sentence.
public protocol CheckedText: Codable {
  init(checkedText: String) throws(DomainError)
  var checkedText: String { get }
}

extension CheckedText {
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    do {
      try self.init(checkedText: text)
    } catch {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(checkedText)
  }
}
