public import Foundation
public import RoadsideDomain

/// Version 1 of the sync protocol between terminals and the central store. Every type
/// here is what crosses the wire, as JSON, over HTTP or in-process alike; the routes are
/// documented in `docs/openapi.json` (OpenAPI 3.1).
public enum ProtocolV1 {
  public static let version = 1
  public static let prefix = "/v1"
  /// The most changes one pull returns.
  public static let maximumBatch = 5_000
  /// The largest request body central accepts.
  public static let maximumBodyBytes = 4 << 20

  /// The target of a pull, exactly as signed and sent (terminal ids need no escaping).
  public static func changesTarget(terminal: String, after: Int64, limit: Int) -> String {
    "\(prefix)/changes?terminal=\(terminal)&after=\(after)&limit=\(limit)"
  }
}

/// `POST /v1/terminals/register`: a terminal binds its Ed25519 public key with the one-time
/// enrolment code central issued for it. The request is signed by that key (proof that
/// the terminal holds it).
public struct RegisterRequest: Sendable, Codable, Equatable {
  public let terminal: String
  /// The raw 32-byte Ed25519 public key, base64.
  public let publicKey: String
  /// The enrolment code `central terminal add` (or `central init`) showed, e.g.
  /// `7K2Q-9XMA-R4TD-0BVE`.
  public let enrolmentCode: String

  public init(terminal: String, publicKey: String, enrolmentCode: String) {
    self.terminal = terminal
    self.publicKey = publicKey
    self.enrolmentCode = enrolmentCode
  }
}

public struct RegisterResponse: Sendable, Codable, Equatable {
  public let terminal: String
  public let unit: String
  public let status: TerminalStatus
  public let registeredAt: Timestamp

  public init(terminal: String, unit: String, status: TerminalStatus, registeredAt: Timestamp) {
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
  public let entity: ChangeEntity
  public let key: String
  public let op: ChangeOperation
  /// The entity's JSON after the change: the ``ChangePayloads`` type its entity names.
  public let payload: String

  public init(
    seq: Int64, at: Timestamp, entity: ChangeEntity, key: String, op: ChangeOperation,
    payload: String
  ) {
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
  public static func unauthorized(_ code: String, _ message: String) -> APIError {
    APIError(status: 401, code: code, message: message)
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
/// protocol types through the same checks; only the wire differs. Every call but `health`
/// is signed with `signer` over the bytes the transport sends (``RequestSigning``).
public protocol CentralTransport: Sendable {
  func health() async throws -> HealthResponse
  func register(_ request: RegisterRequest, signer: RequestSigner) async throws
    -> RegisterResponse
  func changes(terminal: String, after: Int64, limit: Int, signer: RequestSigner) async throws
    -> ChangesResponse
  func push(_ batch: PushBatch, signer: RequestSigner) async throws -> PushResponse
}

/// An officer chose a new PIN on a terminal (record kind `pin_change`): at first login, in
/// place of the initial one. It carries the PBKDF2 hash central keeps (never the PIN);
/// central binds a verifier of it to every terminal of the officer's unit.
public struct PINChangeRecord: Sendable, Codable, Equatable {
  public let officer: String
  public let at: Timestamp
  /// `pbkdf2-sha256$<iterations>$<salt>$<hash>`, at least ``OfficerRules/chosenPINIterations``.
  public let pinHash: String

  public init(officer: String, at: Timestamp, pinHash: String) {
    self.officer = officer
    self.at = at
    self.pinHash = pinHash
  }
}

/// The officer rules terminals and central both apply.
public enum OfficerRules {
  /// 30 minutes without activity end a session, on the terminal and at central's re-check.
  public static let sessionTimeoutSeconds: Int64 = 30 * 60
  /// Wrong PINs in a row that lock an officer: on one terminal, and at central across the
  /// fleet.
  public static let maximumPINFailures = 5
  /// PBKDF2-HMAC-SHA256 iterations of a PIN an officer chooses (OWASP Password Storage Cheat
  /// Sheet, 2023). Central refuses a `pin_change` hashed with fewer.
  public static let chosenPINIterations = 600_000
}

// MARK: - Push

/// One record a terminal made, as it travels to central. The record id is generated on
/// the terminal; central applies each id exactly once, forever.
public struct PushRecord: Sendable, Codable, Equatable {
  public let recordID: String
  /// A ``RecordKind``'s raw value. It stays open on the wire so that a record of a kind this
  /// central does not apply (a newer terminal's) is refused on its own, with the kinds it
  /// does apply, and the rest of its batch goes through; read it as ``recordKind``.
  public let kind: String
  /// The terminal's own order of its records (1, 2, 3, …).
  public let terminalSeq: Int64
  /// When the terminal made the record, by its own clock.
  public let createdAt: Timestamp
  /// The record's JSON.
  public let payload: String

  public init(
    recordID: String, kind: String, terminalSeq: Int64, createdAt: Timestamp, payload: String
  ) {
    self.recordID = recordID
    self.kind = kind
    self.terminalSeq = terminalSeq
    self.createdAt = createdAt
    self.payload = payload
  }

  public init(
    recordID: String, kind: RecordKind, terminalSeq: Int64, createdAt: Timestamp, payload: String
  ) {
    self.init(
      recordID: recordID, kind: kind.rawValue, terminalSeq: terminalSeq, createdAt: createdAt,
      payload: payload)
  }

  /// The record's kind, or nil for a kind this protocol version does not define.
  public var recordKind: RecordKind? { RecordKind(rawValue: kind) }
}

/// `POST /v1/push`: records signed by the terminal's Ed25519 key.
public struct PushBatch: Sendable, Codable, Equatable {
  public let terminal: String
  public let batchID: String
  public let sentAt: Timestamp
  public let records: [PushRecord]
  /// Base64 Ed25519 signature over ``signingBytes()``.
  public var signature: String

  public init(
    terminal: String, batchID: String, sentAt: Timestamp, records: [PushRecord],
    signature: String = ""
  ) {
    self.terminal = terminal
    self.batchID = batchID
    self.sentAt = sentAt
    self.records = records
    self.signature = signature
  }

  /// What the signature covers: the batch without its signature, in ``CanonicalJSON``.
  /// Signer and verifier both derive it from the decoded values, so the bytes on the wire
  /// may differ in spacing or key order without breaking it.
  public func signingBytes() throws(SigningError) -> Data {
    var unsigned = self
    unsigned.signature = ""
    return try CanonicalJSON.data(unsigned)
  }

  /// The batch signed by `key`.
  public func signed(by key: SigningKey) throws(SigningError) -> PushBatch {
    var batch = self
    batch.signature = try key.sign(signingBytes())
    return batch
  }

  /// Whether the signature is by `publicKey` (base64, as central keeps it).
  public func isSigned(byBase64Key publicKey: String?) -> Bool {
    guard let bytes = try? signingBytes() else { return false }
    return SignatureCheck.isValid(signature, byBase64Key: publicKey, over: bytes)
  }
}

/// A conflict central detected between records, or between a record and what central knew.
public struct ConflictReport: Sendable, Codable, Equatable {
  /// `C-1`, `C-2`, … assigned by central.
  public let id: String
  public let kind: ConflictKind
  public let terminal: String
  /// The record ids involved, the triggering one last.
  public let records: [String]
  public let licence: String?
  public let detectedAt: Timestamp
  public let description: String
  public let resolution: String

  public init(
    id: String, kind: ConflictKind, terminal: String, records: [String], licence: String?,
    detectedAt: Timestamp,
    description: String, resolution: String
  ) {
    self.id = id
    self.kind = kind
    self.terminal = terminal
    self.records = records
    self.licence = licence
    self.detectedAt = detectedAt
    self.description = description
    self.resolution = resolution
  }
}

/// Central's answer for one record.
public struct RecordAcknowledgement: Sendable, Codable, Equatable {
  public let recordID: String
  /// `duplicate` means already applied: `first` is the first acknowledgement; `rejected`
  /// comes with `reason`, `conflict` (applied or held) with `conflict`.
  public let outcome: RecordOutcome
  public let reason: String?
  public let conflict: ConflictReport?
  public let first: FirstAcknowledgement?

  public init(
    recordID: String, outcome: RecordOutcome, reason: String? = nil,
    conflict: ConflictReport? = nil,
    first: FirstAcknowledgement? = nil
  ) {
    self.recordID = recordID
    self.outcome = outcome
    self.reason = reason
    self.conflict = conflict
    self.first = first
  }
}

/// The acknowledgement a record got the first time, repeated for its duplicates.
public struct FirstAcknowledgement: Sendable, Codable, Equatable {
  /// Never `duplicate`.
  public let outcome: RecordOutcome
  public let reason: String?
  public let conflict: ConflictReport?
  public let receivedAt: Timestamp

  public init(
    outcome: RecordOutcome, reason: String?, conflict: ConflictReport?, receivedAt: Timestamp
  ) {
    self.outcome = outcome
    self.reason = reason
    self.conflict = conflict
    self.receivedAt = receivedAt
  }
}

public struct PushResponse: Sendable, Codable, Equatable {
  public let batchID: String
  public let acknowledgements: [RecordAcknowledgement]

  public init(batchID: String, acknowledgements: [RecordAcknowledgement]) {
    self.batchID = batchID
    self.acknowledgements = acknowledgements
  }
}

/// A violation observed at the roadside (kind `violation`). Decisions, fines and the
/// procedure are made from it by the penalty capability; here it carries what sync needs.
public struct ViolationRecord: Sendable, Codable, Equatable {
  public let licence: String
  public let plate: String
  public let offence: String
  public let points: Int
  public let at: Timestamp
  public let officer: String
  public let place: String

  public init(
    licence: String, plate: String, offence: String, points: Int, at: Timestamp, officer: String,
    place: String
  ) {
    self.licence = licence
    self.plate = plate
    self.offence = offence
    self.points = points
    self.at = at
    self.officer = officer
    self.place = place
  }
}

/// A lookup's conclusion (kind `check`): what the terminal's cache said about the licence
/// when the officer looked, so central can tell whether it knew better at that moment.
public struct CheckRecord: Sendable, Codable, Equatable {
  public let licence: String
  public let at: Timestamp
  public let officer: String
  public let found: Bool
  public let statusSeen: String?
  public let epochSeen: Int?
  /// The terminal's pull cursor at the check.
  public let cursor: Int64

  public init(
    licence: String, at: Timestamp, officer: String, found: Bool, statusSeen: String?,
    epochSeen: Int?,
    cursor: Int64
  ) {
    self.licence = licence
    self.at = at
    self.officer = officer
    self.found = found
    self.statusSeen = statusSeen
    self.epochSeen = epochSeen
    self.cursor = cursor
  }
}

/// A penalty decision or processing notice a terminal issued offline (record kinds
/// `decision` and `notice`), signed with the terminal's key so that central can tell it was
/// not altered on the way and re-run the domain's checks on it.
public struct DocumentSubmission: Sendable, Codable, Equatable {
  public let document: PenaltyDocument
  /// Base64 Ed25519 signature by the issuing terminal over ``signingBytes(of:)``.
  public let signature: String

  public init(document: PenaltyDocument, signature: String) {
    self.document = document
    self.signature = signature
  }

  /// What the signature covers: the document's ``CanonicalJSON``.
  public static func signingBytes(of document: PenaltyDocument) throws(SigningError) -> Data {
    try CanonicalJSON.data(document)
  }

  /// The document signed by `key`.
  public init(signing document: PenaltyDocument, with key: SigningKey) throws(SigningError) {
    self.init(document: document, signature: try key.sign(canonical: document))
  }

  /// Whether the signature is by `publicKey` (base64, as central keeps it).
  public func isSigned(byBase64Key publicKey: String?) -> Bool {
    guard let bytes = try? CanonicalJSON.data(document) else { return false }
    return SignatureCheck.isValid(signature, byBase64Key: publicKey, over: bytes)
  }
}

/// An officer voided a document (record kind `void`), offline or not.
public struct VoidRecord: Sendable, Codable, Equatable {
  public let number: String
  public let reason: String
  public let at: Timestamp
  public let officer: String

  public init(number: String, reason: String, at: Timestamp, officer: String) {
    self.number = number
    self.reason = reason
    self.at = at
    self.officer = officer
  }
}
