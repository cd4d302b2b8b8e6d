/// A failure of the PostgreSQL connection or server, as one sentence that names the server
/// and what to check. The bound values of a statement never appear in it (they are
/// personal data); the statement's text and the server's message do.
public struct PostgresStoreError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The URL cannot be used as written (exit 64).
    case malformedURL
    /// The server cannot be reached, refused the login or has no such database (exit 69).
    case unavailable
    /// The server refused a statement; `sqlState` is its SQLSTATE code.
    case server(sqlState: String)
    /// The connection was lost or closed (the node answers 503 and reconnects).
    case connectionLost
    /// The client library failed on a connection that is still there: a message it could
    /// not read, too many parameters, a cancelled query. A fault of this program, not of
    /// the server's reach (exit 70; a node answers 500).
    case client
  }

  public let kind: Kind
  public let description: String

  public init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }

  var sqlState: String? {
    if case .server(let state) = kind { return state }
    return nil
  }

  /// A constraint of the schema refused the write (SQLSTATE class 23).
  public var isConstraintViolation: Bool { sqlState?.hasPrefix("23") ?? false }
  /// A serialisation failure or deadlock: the transaction may be retried as a whole.
  public var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }
  /// The server is out of reach: the store is unavailable until it returns.
  public var isUnavailable: Bool {
    switch kind {
    case .unavailable, .connectionLost: true
    case .malformedURL, .server, .client: false
    }
  }
}
