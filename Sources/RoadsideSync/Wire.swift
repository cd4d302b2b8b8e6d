public import RoadsideDomain

/// Version 1 of the sync protocol between terminals and the central store. Every type
/// here is what crosses the wire, as JSON, over HTTP or in-process alike; the routes are
/// documented in `docs/openapi.yaml`.
public enum ProtocolV1 {
  public static let version = 1
  public static let prefix = "/v1"
  /// The most changes one pull returns.
  public static let maximumBatch = 5_000
  /// The largest request body central accepts.
  public static let maximumBodyBytes = 4 << 20
}

/// `POST /v1/terminals/register`: a terminal announces its Ed25519 public key.
public struct RegisterRequest: Sendable, Codable, Equatable {
  public let terminal: String
  /// The raw 32-byte Ed25519 public key, base64.
  public let publicKey: String

  public init(terminal: String, publicKey: String) {
    self.terminal = terminal
    self.publicKey = publicKey
  }
}

public struct RegisterResponse: Sendable, Codable, Equatable {
  public let terminal: String
  public let unit: String
  public let status: String
  public let registeredAt: Timestamp

  public init(terminal: String, unit: String, status: String, registeredAt: Timestamp) {
    self.terminal = terminal
    self.unit = unit
    self.status = status
    self.registeredAt = registeredAt
  }
}

/// One change-log entry as a terminal receives it.
public struct WireChange: Sendable, Codable, Equatable {
  public let seq: Int64
  public let at: Timestamp
  /// `licence vehicle officer terminal offence points mandate decision`.
  public let entity: String
  public let key: String
  /// `upsert` or `delete`.
  public let op: String
  /// The entity's JSON after the change.
  public let payload: String

  public init(seq: Int64, at: Timestamp, entity: String, key: String, op: String, payload: String) {
    self.seq = seq
    self.at = at
    self.entity = entity
    self.key = key
    self.op = op
    self.payload = payload
  }
}

/// `GET /v1/changes?terminal=T&after=N&limit=M`: the changes after the terminal's cursor.
public struct ChangesResponse: Sendable, Codable, Equatable {
  public let changes: [WireChange]
  /// Central's newest sequence number when it answered.
  public let latest: Int64
  /// More changes follow the last one returned.
  public let hasMore: Bool

  public init(changes: [WireChange], latest: Int64, hasMore: Bool) {
    self.changes = changes
    self.latest = latest
    self.hasMore = hasMore
  }
}

/// `GET /v1/health`.
public struct HealthResponse: Sendable, Codable, Equatable {
  public let status: String
  public let apiVersion: Int
  public let latest: Int64

  public init(status: String, apiVersion: Int, latest: Int64) {
    self.status = status
    self.apiVersion = apiVersion
    self.latest = latest
  }
}

/// The body of every error response: `{"error": {"code": "…", "message": "…"}}`.
public struct ErrorResponse: Sendable, Codable, Equatable {
  public struct Detail: Sendable, Codable, Equatable {
    public let code: String
    public let message: String
  }

  public let error: Detail

  public init(code: String, message: String) {
    self.error = Detail(code: code, message: message)
  }
}

/// A protocol-level failure with a stable code: the same value whether it came over HTTP
/// or from the in-process transport.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The HTTP status it travels with.
  public let httpStatus: Int
  /// Stable machine-readable code, e.g. `unknown_terminal`, `cursor_ahead`.
  public let code: String
  public let message: String

  public init(status: Int, code: String, message: String) {
    self.httpStatus = status
    self.code = code
    self.message = message
  }

  public var description: String { "central refused the request (\(code)): \(message)" }

  public static func badRequest(_ code: String, _ message: String) -> APIError {
    APIError(status: 400, code: code, message: message)
  }
  public static func forbidden(_ code: String, _ message: String) -> APIError {
    APIError(status: 403, code: code, message: message)
  }
  public static func notFound(_ code: String, _ message: String) -> APIError {
    APIError(status: 404, code: code, message: message)
  }
  public static func conflict(_ code: String, _ message: String) -> APIError {
    APIError(status: 409, code: code, message: message)
  }
}

/// A failure to reach central at all (refused connection, timeout, garbled answer). A
/// terminal keeps working offline and retries later.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { "cannot reach central: \(message)" }
}

/// How a terminal talks to central. HTTP and in-process implementations carry the same
/// protocol types through the same checks; only the wire differs.
public protocol CentralTransport: Sendable {
  func health() async throws -> HealthResponse
  func register(_ request: RegisterRequest) async throws -> RegisterResponse
  func changes(terminal: String, after: Int64, limit: Int) async throws -> ChangesResponse
}
