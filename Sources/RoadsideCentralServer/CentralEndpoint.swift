import Foundation
public import RoadsideCentral
public import RoadsideDomain
public import RoadsideMutants
import RoadsidePostgres
public import RoadsideProtocol

/// The protocol handler: takes v1 requests, runs them against the central store, and
/// answers v1 responses or ``APIError``s. The HTTP routes and the in-process transport
/// both call it, so both wires run the same checks.
///
/// Requests run on the node's connections to its store (``ServicePool``): one at a time
/// on a SQLite file, which has one writer; up to `connections` at once on PostgreSQL,
/// where the store's own locks keep concurrent transactions apart as they keep nodes apart.
public final class CentralEndpoint: Sendable {
  let pool: ServicePool
  /// Requests per terminal, for `central serve` (the in-process wire of scenarios has none).
  let rateLimiter: RateLimiter?

  /// Connections a node opens to a PostgreSQL store unless told otherwise: enough that
  /// while one request waits on a round trip another runs, on a machine of a few cores.
  public static let defaultPostgresConnections = 4

  public init(service: sending CentralService, rateLimiter: RateLimiter? = nil) {
    self.pool = ServicePool([service])
    self.rateLimiter = rateLimiter
  }

  /// Opens the store at `path`.
  public convenience init(path: String, clock: any Clock, rateLimiter: RateLimiter? = nil)
    throws
  {
    try self.init(location: .file(path), clock: clock, rateLimiter: rateLimiter)
  }

  /// Opens the store at `location` with `connections` connections (nil: one for a SQLite
  /// file, ``defaultPostgresConnections`` for PostgreSQL). A SQLite file takes exactly one.
  /// `mutant` is for the simulation alone (``CentralService/mutant``).
  public init(
    location: CentralStoreLocation, clock: any Clock, rateLimiter: RateLimiter? = nil,
    connections: Int? = nil, mutant: Mutant? = nil
  ) throws {
    let count: Int
    switch location {
    case .file:
      precondition(connections ?? 1 == 1, "a SQLite central store is served by one connection")
      count = 1
    case .postgresql:
      count = connections ?? Self.defaultPostgresConnections
      precondition(count >= 1, "a node needs at least one connection to its store")
    }
    var services: [CentralService] = []
    for _ in 0..<count {
      services.append(try CentralService.open(location, clock: clock, mutant: mutant))
    }
    self.pool = ServicePool(services)
    self.rateLimiter = rateLimiter
  }

  /// How many requests this node runs against its store at once.
  public var connections: Int { pool.count }

  /// Runs `body` on a free connection, turning store and domain errors into protocol
  /// errors.
  private func serve<T: Sendable>(
    _ body: @escaping @Sendable (CentralService, Checks) throws -> T
  ) async throws -> T {
    let checks = Checks(rateLimiter: rateLimiter)
    return try await pool.run { service in try Self.guarded { try body(service, checks) } }
  }

  /// What every signed request goes through before its own checks.
  private struct Checks: Sendable {
    let rateLimiter: RateLimiter?

    /// The signed request's terminal, within its rate.
    func authenticated(_ signed: SignedRequest, by service: CentralService) throws
      -> TerminalState
    {
      let terminal = try service.authenticate(signed)
      if let rateLimiter, let wait = rateLimiter.admit(terminal.id) {
        throw APIError(
          status: 429, code: "rate_limited",
          message:
            "terminal \(terminal.id) sent more than \(Int(rateLimiter.burst)) requests in a burst; wait \(wait) s and retry"
        )
      }
      return terminal
    }
  }

  public func health() async throws -> HealthResponse {
    try await serve { service, _ in
      HealthResponse(
        status: "ok", apiVersion: ProtocolV1.version, latest: try service.latestSequence())
    }
  }

  /// Binds a terminal's key with its enrolment code; the request must be signed by that key.
  public func register(_ request: RegisterRequest, signed: SignedRequest) async throws
    -> RegisterResponse
  {
    try await serve { service, _ in
      guard let key = Data(base64Encoded: request.publicKey), key.count == 32 else {
        throw APIError.badRequest(
          "bad_public_key", "publicKey is the raw 32-byte Ed25519 public key in base64")
      }
      guard signed.credentials != nil else {
        throw APIError.unauthorized(
          "unsigned_request",
          "the request is not signed; a registration is signed by the key it registers (docs/security.md)"
        )
      }
      let state = try service.registerTerminal(
        id: request.terminal, publicKey: [UInt8](key), enrolmentCode: request.enrolmentCode,
        signed: signed)
      return RegisterResponse(
        terminal: state.id, unit: state.unit, status: state.status,
        registeredAt: state.registeredAt ?? service.clock.now())
    }
  }

  /// The changes after `after`, for the enrolled terminal that signed the request.
  public func changes(terminal id: String, after: Int64, limit: Int, signed: SignedRequest)
    async throws -> ChangesResponse
  {
    try await serve { service, checks in
      let terminal = try checks.authenticated(signed, by: service)
      guard terminal.id == id else {
        throw APIError.forbidden(
          "not_your_terminal", "terminal \(terminal.id) may pull only its own changes, not \(id)'s")
      }
      guard after >= 0 else {
        throw APIError.badRequest(
          "bad_cursor", "after must be 0 or a sequence number, not \(after)")
      }
      guard (1...ProtocolV1.maximumBatch).contains(limit) else {
        throw APIError.badRequest(
          "bad_limit", "limit must be 1 to \(ProtocolV1.maximumBatch), not \(limit)")
      }
      let (changes, latest) = try service.changes(for: terminal.id, after: after, limit: limit)
      guard after <= latest else {
        // Not malformed: the request is sound, the cache is another central's (409).
        throw APIError.conflict(
          "cursor_ahead",
          "cursor \(after) is ahead of central's newest change \(latest); this cache was not filled by this central store"
        )
      }
      // Entries meant for other terminals are left out, so a page that is not full means
      // there is nothing more for this terminal up to `latest`.
      return ChangesResponse(
        changes: changes.map {
          WireChange(
            seq: $0.seq, at: $0.at, entity: $0.entity, key: $0.key, op: $0.op,
            payload: $0.payload)
        },
        latest: latest, hasMore: changes.count == limit && (changes.last?.seq ?? latest) < latest)
    }
  }

  /// Applies a signed batch of records from the terminal that signed the request.
  public func push(_ batch: PushBatch, signed: SignedRequest) async throws -> PushResponse {
    try await serve { service, checks in
      let terminal = try checks.authenticated(signed, by: service)
      guard terminal.id == batch.terminal else {
        throw APIError.forbidden(
          "not_your_terminal", "terminal \(terminal.id) may push only its own records")
      }
      guard batch.records.count <= ProtocolV1.maximumBatch else {
        throw APIError.badRequest(
          "batch_too_large",
          "a push carries at most \(ProtocolV1.maximumBatch) records, not \(batch.records.count)")
      }
      do {
        return try service.push(batch)
      } catch let refusal as PushRefusal {
        throw APIError(status: refusal.status, code: refusal.code, message: refusal.description)
      }
    }
  }

  /// The conflicts of the terminal that signed the request (a terminal sees only its own).
  public func conflicts(terminal: String?, signed: SignedRequest) async throws
    -> [ConflictReport]
  {
    try await serve { service, checks in
      let caller = try checks.authenticated(signed, by: service)
      if let terminal, terminal != caller.id {
        throw APIError.forbidden(
          "not_your_terminal", "terminal \(caller.id) may read only its own conflicts")
      }
      return try service.conflicts(terminal: caller.id)
    }
  }

  /// Runs `body`, turning store and domain errors into protocol errors.
  static func guarded<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as APIError {
      throw error
    } catch let error as CentralError {
      switch error.kind {
      case .notFound:
        throw APIError.unauthorized("unknown_terminal", error.description)
      case .refused(let refusal):
        throw APIError(
          status: refusal.httpStatus, code: refusal.rawValue, message: error.description)
      case .unusableStore, .alreadyExists:
        throw APIError(status: 500, code: "store_unavailable", message: error.description)
      }
    } catch let error as DomainError {
      throw APIError.badRequest("invalid", error.description)
    } catch let error as PostgresStoreError where error.isUnavailable {
      // The node lost its database: the terminal keeps working offline and retries; the
      // connection is opened again by the next request.
      throw APIError(
        status: 503, code: "store_unavailable",
        message: "central's store is unavailable (\(error.description)); retry later")
    } catch {
      throw APIError(status: 500, code: "internal", message: "central failed: \(error)")
    }
  }
}

/// The in-process wire: calls the endpoint directly, round-tripping every request and
/// response through JSON so that what scenarios exercise is exactly what HTTP carries.
public struct InProcessTransport: CentralTransport {
  public let endpoint: CentralEndpoint

  public init(endpoint: CentralEndpoint) { self.endpoint = endpoint }

  public func health() async throws -> HealthResponse {
    try roundTrip(try await endpoint.health())
  }

  public func register(_ request: RegisterRequest, signer: RequestSigner) async throws
    -> RegisterResponse
  {
    let body = try JSONEncoder().encode(request)
    let signed = try signer.sign(method: "POST", target: "/v1/terminals/register", body: body)
    return try roundTrip(
      try await endpoint.register(
        try JSONDecoder().decode(RegisterRequest.self, from: body), signed: signed))
  }

  public func changes(terminal: String, after: Int64, limit: Int, signer: RequestSigner)
    async throws -> ChangesResponse
  {
    let signed = try signer.sign(
      method: "GET",
      target: ProtocolV1.changesTarget(terminal: terminal, after: after, limit: limit),
      body: Data())
    return try roundTrip(
      try await endpoint.changes(terminal: terminal, after: after, limit: limit, signed: signed))
  }

  public func push(_ batch: PushBatch, signer: RequestSigner) async throws -> PushResponse {
    let body = try JSONEncoder().encode(batch)
    let signed = try signer.sign(method: "POST", target: "/v1/push", body: body)
    return try roundTrip(
      try await endpoint.push(
        try JSONDecoder().decode(PushBatch.self, from: body), signed: signed))
  }

  func roundTrip<T: Codable>(_ value: T) throws -> T {
    try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(value))
  }
}
