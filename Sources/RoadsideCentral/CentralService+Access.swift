import Foundation
public import RoadsideDomain
public import RoadsideProtocol
import RoadsideStorage

// Who may talk to central (docs/security.md): terminals enrol once with a one-time code
// that binds their key, and every later request is signed by that key.

/// A terminal's pending or used enrolment: only the code's hash is kept.
public struct Enrolment: Sendable, Hashable {
  public let terminal: String
  public let codeHash: String
  public let issuedAt: Timestamp
  public let expiresAt: Timestamp
  public var usedAt: Timestamp?

  public init(
    terminal: String, codeHash: String, issuedAt: Timestamp, expiresAt: Timestamp,
    usedAt: Timestamp? = nil
  ) {
    self.terminal = terminal
    self.codeHash = codeHash
    self.issuedAt = issuedAt
    self.expiresAt = expiresAt
    self.usedAt = usedAt
  }
}

/// A code just issued: shown once to the operator, never stored.
public struct IssuedEnrolment: Sendable, Hashable, Codable {
  public let terminal: String
  public let code: String
  public let expiresAt: Timestamp
}

/// One-time enrolment codes: 80 random bits written as 16 Crockford base32 characters in
/// four groups (`7K2Q-9XMA-R4TD-0BVE`). The code is long and random enough that a plain
/// SHA-256 is a sound verifier (no slow hash is needed against guessing), and it expires.
public enum EnrolmentCode {
  static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
  /// How long a code is valid unless the operator says otherwise.
  public static let defaultValidHours = 168

  /// The code for 10 random bytes.
  public static func make(from bytes: [UInt8]) -> String {
    precondition(bytes.count == 10, "an enrolment code takes 10 random bytes")
    var bits = 0
    var value = 0
    var characters: [UInt8] = []
    for byte in bytes {
      value = (value << 8) | Int(byte)
      bits += 8
      while bits >= 5 {
        bits -= 5
        characters.append(alphabet[(value >> bits) & 31])
      }
    }
    let text = String(decoding: characters, as: UTF8.self)
    return stride(from: 0, to: 16, by: 4).map {
      let start = text.index(text.startIndex, offsetBy: $0)
      return String(text[start..<text.index(start, offsetBy: 4)])
    }.joined(separator: "-")
  }

  /// The code as typed, without dashes or spaces, upper case, with the letters Crockford
  /// reads as digits (O → 0, I and L → 1); nil when it cannot be a code.
  public static func normalised(_ text: String) -> String? {
    var result: [UInt8] = []
    for byte in text.uppercased().utf8 {
      switch byte {
      case UInt8(ascii: "-"), UInt8(ascii: " "): continue
      case UInt8(ascii: "O"): result.append(UInt8(ascii: "0"))
      case UInt8(ascii: "I"), UInt8(ascii: "L"): result.append(UInt8(ascii: "1"))
      default:
        guard alphabet.contains(byte) else { return nil }
        result.append(byte)
      }
    }
    return result.count == 16 ? String(decoding: result, as: UTF8.self) : nil
  }

  /// The verifier kept for a normalised code.
  public static func hash(_ normalised: String) -> String {
    Hex.sha256(Data("roadside-enrolment-v1:\(normalised)".utf8))
  }
}

/// Reading enrolments.
public protocol CentralAccessReading {
  func enrolment(terminal: String) throws -> Enrolment?
}

/// Writing enrolments, nonces and retirements.
public protocol CentralAccessStore: CentralAccessReading {
  func save(_ enrolment: Enrolment) throws
  /// Records a nonce; false when the terminal already used it.
  func insertNonce(terminal: String, nonce: String, at: Timestamp) throws -> Bool
  func purgeNonces(before: Timestamp) throws
  /// Marks the terminal's live ranges retired and returns them.
  func retireRanges(terminal: String, at: Timestamp) throws -> [NumberRange]
}

extension CentralService {
  /// Issues a one-time enrolment code for a terminal that has no key bound: `random` must be
  /// 10 bytes from a secure source. A code issued earlier and not used stops working.
  public func issueEnrolment(
    terminal id: String, random: [UInt8], validHours: Int = EnrolmentCode.defaultValidHours
  ) throws -> IssuedEnrolment {
    try Self.checkValidHours(validHours)
    let now = clock.now()
    return try store.write { tx in
      let terminal = try requireTerminal(id, in: tx)
      guard terminal.publicKey == nil, terminal.status != .revoked else {
        throw CentralError(
          .refused(.terminalEnrolled),
          "terminal \(id) is \(terminal.status == .revoked ? "revoked" : "already enrolled"); run 'roadside central terminal reset \(id)' to enrol a device again"
        )
      }
      return try enrol(id, random: random, validHours: validHours, at: now, in: tx)
    }
  }

  /// Starts a terminal over: its key (and so every device holding it) stops working, its
  /// unused document numbers are retired, and a new one-time code is issued. A revoked
  /// (lost) terminal's id is active again, with no key until a new device enrols. Records
  /// the old device signed but never pushed cannot arrive any more: sync it first if it is
  /// at hand.
  public func resetTerminal(
    id: String, random: [UInt8], validHours: Int = EnrolmentCode.defaultValidHours,
    reason: String?
  ) throws -> IssuedEnrolment {
    try Self.checkValidHours(validHours)
    let now = clock.now()
    return try store.write { tx in
      var terminal = try requireTerminal(id, in: tx)
      terminal.publicKey = nil
      terminal.registeredAt = nil
      terminal.status = .active
      terminal.revokedAt = nil
      try tx.update(terminal)
      try tx.startNewDevice(terminal: id)
      try tx.append(
        NewChange(
          entity: .terminal, key: id, payload: try CanonicalJSON.string(terminal), audience: id),
        at: now,
        action: "terminal.reset", reason: reason)
      for range in try tx.retireRanges(terminal: id, at: now) {
        try tx.append(
          NewChange(
            entity: .numberRange, key: "\(id)/\(range.year)/\(range.first)", op: .delete,
            payload: try CanonicalJSON.string(range), audience: id),
          at: now, action: "numbers.retire", reason: reason)
      }
      return try enrol(id, random: random, validHours: validHours, at: now, in: tx)
    }
  }

  private static func checkValidHours(_ hours: Int) throws {
    guard (1...720).contains(hours) else {
      throw DomainError(
        .invalidData, "an enrolment code is valid for 1 to 720 hours, not \(hours)")
    }
  }

  private func enrol(
    _ id: String, random: [UInt8], validHours: Int, at now: Timestamp,
    in tx: any CentralWriting
  ) throws -> IssuedEnrolment {
    let code = EnrolmentCode.make(from: random)
    let expires = now.adding(seconds: Int64(validHours) * 3600)
    try tx.save(
      Enrolment(
        terminal: id, codeHash: EnrolmentCode.hash(EnrolmentCode.normalised(code)!),
        issuedAt: now, expiresAt: expires))
    return IssuedEnrolment(terminal: id, code: code, expiresAt: expires)
  }

  /// Authenticates a signed request: the terminal known and enrolled, the signature valid,
  /// the terminal not revoked, the time within ±5 minutes of central's, the nonce new. Every
  /// refusal is a 401 with a stable code. Nothing is written until the signature verifies:
  /// then only the nonce.
  public func authenticate(_ request: SignedRequest) throws -> TerminalState {
    let now = clock.now()
    // One transaction: the checks, then the nonce. A refusal throws before anything is
    // written and the transaction rolls back, so nothing is written until the signature
    // verifies; one transaction is one commit and two round trips (a BEGIN and a COMMIT)
    // fewer on PostgreSQL than a read followed by a write.
    return try store.write { tx in
      let (terminal, credentials) = try verify(request, at: now, in: tx)
      try recordNonce(credentials, of: terminal.id, at: now, in: tx)
      return terminal
    }
  }

  /// The read-only checks of ``authenticate(_:)``, in an order that says as little as it
  /// can before the signature verifies: unknown, not enrolled, bad signature; only then
  /// revoked or stale (which name the terminal's state and central's clock).
  func verify(
    _ request: SignedRequest, registering key: [UInt8]? = nil, at now: Timestamp,
    in tx: any CentralReading
  ) throws -> (TerminalState, RequestCredentials) {
    guard let credentials = request.credentials else {
      throw APIError.unauthorized(
        "unsigned_request",
        "the request is not signed; send Roadside-Terminal, Roadside-Timestamp, Roadside-Nonce and Roadside-Signature (docs/security.md)"
      )
    }
    guard let terminal = try tx.terminal(credentials.terminal) else {
      throw APIError.unauthorized(
        "unknown_terminal",
        "central does not know terminal \(credentials.terminal); add it with 'roadside central terminal add --id \(credentials.terminal) --unit …'"
      )
    }
    let publicKey: [UInt8]
    if let key {
      publicKey = key
    } else {
      guard let bound = terminal.publicKey.flatMap({ Data(base64Encoded: $0) }) else {
        throw APIError.unauthorized(
          "terminal_not_enrolled",
          "terminal \(terminal.id) has not enrolled a key; run 'roadside terminal init --enrol CODE'"
        )
      }
      publicKey = [UInt8](bound)
    }
    guard RequestSigning.isValid(request, publicKey: publicKey) else {
      throw APIError.unauthorized(
        "bad_signature",
        "the request's signature does not verify with terminal \(terminal.id)'s key")
    }
    guard terminal.status != .revoked else {
      throw APIError.unauthorized(
        "terminal_revoked", "terminal \(terminal.id) was reported lost and revoked")
    }
    guard let sent = Timestamp(iso: credentials.timestamp),
      abs(sent.secondsSinceEpoch - now.secondsSinceEpoch) <= RequestSigning.windowSeconds
    else {
      throw APIError.unauthorized(
        "stale_request",
        "the request's time \(credentials.timestamp) is more than 5 minutes from central's (\(now)); set the terminal's clock"
      )
    }
    guard (16...64).contains(credentials.nonce.utf8.count) else {
      throw APIError.unauthorized("bad_nonce", "a request nonce has 16 to 64 characters")
    }
    return (terminal, credentials)
  }

  /// Stores a verified request's nonce; refuses one the terminal has used.
  func recordNonce(
    _ credentials: RequestCredentials, of terminal: String, at now: Timestamp,
    in tx: any CentralWriting
  ) throws {
    try tx.purgeNonces(before: now.adding(seconds: -2 * RequestSigning.windowSeconds))
    guard try tx.insertNonce(terminal: terminal, nonce: credentials.nonce, at: now) else {
      throw APIError.unauthorized(
        "replayed_request", "central has already received a request with this nonce")
    }
  }

  /// Binds a terminal's key with its one-time enrolment code, in one transaction: the code
  /// first, then the request's signature by that key (proof of possession) and its nonce,
  /// then the binding; a refusal at any step writes nothing. Registering the same key with
  /// the same code again (a retry after a lost answer) changes nothing.
  public func registerTerminal(
    id: String, publicKey: [UInt8], enrolmentCode: String, signed: SignedRequest
  ) throws -> TerminalState {
    guard publicKey.count == 32 else {
      throw CentralError(
        .refused(.badPublicKey), "an Ed25519 public key is 32 bytes, not \(publicKey.count)")
    }
    let now = clock.now()
    let encoded = Data(publicKey).base64EncodedString()
    return try store.write { tx in
      var terminal = try requireTerminal(id, in: tx)
      guard let normalised = EnrolmentCode.normalised(enrolmentCode),
        let enrolment = try tx.enrolment(terminal: id),
        enrolment.codeHash == EnrolmentCode.hash(normalised)
      else {
        throw APIError.unauthorized(
          "enrolment_invalid",
          "that is not terminal \(id)'s enrolment code; ask the unit for a new one ('roadside central terminal reset \(id)')"
        )
      }
      guard signed.credentials?.terminal == id else {
        throw APIError.unauthorized(
          "terminal_mismatch", "the request is signed for another terminal than the body names")
      }
      let (_, credentials) = try verify(signed, registering: publicKey, at: now, in: tx)
      try recordNonce(credentials, of: id, at: now, in: tx)
      if let existing = terminal.publicKey {
        if existing == encoded, enrolment.usedAt != nil { return terminal }
        throw APIError.unauthorized(
          "enrolment_used",
          "terminal \(id)'s enrolment code was already used; 'roadside central terminal reset \(id)' issues a new one"
        )
      }
      guard enrolment.usedAt == nil else {
        throw APIError.unauthorized(
          "enrolment_used", "terminal \(id)'s enrolment code was already used")
      }
      guard now < enrolment.expiresAt else {
        throw APIError.unauthorized(
          "enrolment_expired",
          "terminal \(id)'s enrolment code expired at \(enrolment.expiresAt); 'roadside central terminal reset \(id)' issues a new one"
        )
      }
      if try tx.terminals().contains(where: { $0.publicKey == encoded }) {
        throw CentralError(.refused(.keyInUse), "that public key belongs to another terminal")
      }
      var used = enrolment
      used.usedAt = now
      try tx.save(used)
      terminal.publicKey = encoded
      terminal.registeredAt = now
      try tx.update(terminal)
      try tx.append(
        NewChange(
          entity: .terminal, key: id, payload: try CanonicalJSON.string(terminal), audience: id),
        at: now,
        action: "terminal.register", reason: nil)
      // Its first document numbers, so that it can decide on the spot from its first stop.
      if try tx.numberRanges(terminal: id).isEmpty {
        try allocateRange(terminal: id, at: now, in: tx)
      }
      return terminal
    }
  }
}
