import Foundation
public import RoadsideCentral
public import RoadsideDomain
public import RoadsideProtocol

/// The protocol handler: takes v1 requests, runs them against the central store, and
/// answers v1 responses or ``APIError``s. The HTTP routes and the in-process transport
/// both call it, so both wires run the same checks.
///
/// An actor: the central store has one writer, and requests arrive concurrently.
public actor CentralEndpoint {
  let service: CentralService

  public init(service: sending CentralService) {
    self.service = service
  }

  /// Opens the store at `path`.
  public init(path: String, clock: any Clock) throws {
    self.service = try CentralService.open(path: path, clock: clock)
  }

  public func health() throws -> HealthResponse {
    try guarded {
      HealthResponse(
        status: "ok", apiVersion: ProtocolV1.version, latest: try service.latestSequence())
    }
  }

  public func register(_ request: RegisterRequest) throws -> RegisterResponse {
    try guarded {
      guard let key = Data(base64Encoded: request.publicKey) else {
        throw APIError.badRequest("bad_public_key", "publicKey is not base64")
      }
      let state = try service.registerTerminal(id: request.terminal, publicKey: [UInt8](key))
      return RegisterResponse(
        terminal: state.id, unit: state.unit, status: state.status,
        registeredAt: state.registeredAt ?? service.clock.now())
    }
  }

  /// The changes after `after`, for a registered, unrevoked terminal.
  public func changes(terminal id: String, after: Int64, limit: Int) throws -> ChangesResponse {
    try guarded {
      guard after >= 0 else {
        throw APIError.badRequest(
          "bad_cursor", "after must be 0 or a sequence number, not \(after)")
      }
      guard (1...ProtocolV1.maximumBatch).contains(limit) else {
        throw APIError.badRequest(
          "bad_limit", "limit must be 1 to \(ProtocolV1.maximumBatch), not \(limit)")
      }
      let terminal = try service.terminal(id)
      guard terminal.status != "revoked" else {
        throw APIError.forbidden("terminal_revoked", "terminal \(id) was reported lost and revoked")
      }
      guard terminal.publicKey != nil else {
        throw APIError.forbidden(
          "terminal_not_registered",
          "terminal \(id) has not registered its key; run 'roadside terminal init'")
      }
      let latest = try service.latestSequence()
      guard after <= latest else {
        throw APIError.badRequest(
          "cursor_ahead",
          "cursor \(after) is ahead of central's newest change \(latest); this cache was not filled by this central store"
        )
      }
      let changes = try service.changes(after: after, limit: limit)
      return ChangesResponse(
        changes: changes.map {
          WireChange(
            seq: $0.seq, at: $0.at, entity: $0.entity.rawValue, key: $0.key, op: $0.op.rawValue,
            payload: $0.payload)
        },
        latest: latest, hasMore: (changes.last?.seq ?? latest) < latest)
    }
  }

  /// Applies a signed batch of records and acknowledges each.
  public func push(_ batch: PushBatch) throws -> PushResponse {
    try guarded {
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

  /// Conflicts, all or one terminal's.
  public func conflicts(terminal: String?) throws -> [ConflictReport] {
    try guarded { try service.conflicts(terminal: terminal) }
  }

  /// Runs `body`, turning store and domain errors into protocol errors.
  func guarded<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as APIError {
      throw error
    } catch let error as CentralError {
      switch error.kind {
      case .notFound:
        throw APIError.notFound("unknown_terminal", error.description)
      case .refused(let code):
        throw APIError(
          status: code == "terminal_revoked" ? 403 : 409, code: code, message: error.description)
      case .unusableStore, .alreadyExists:
        throw APIError(status: 500, code: "store_unavailable", message: error.description)
      }
    } catch let error as DomainError {
      throw APIError.badRequest("invalid", error.description)
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

  public func register(_ request: RegisterRequest) async throws -> RegisterResponse {
    try roundTrip(try await endpoint.register(try roundTrip(request)))
  }

  public func changes(terminal: String, after: Int64, limit: Int) async throws -> ChangesResponse {
    try roundTrip(try await endpoint.changes(terminal: terminal, after: after, limit: limit))
  }

  public func push(_ batch: PushBatch) async throws -> PushResponse {
    try roundTrip(try await endpoint.push(try roundTrip(batch)))
  }

  func roundTrip<T: Codable>(_ value: T) throws -> T {
    try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(value))
  }
}
