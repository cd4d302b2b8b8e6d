import Crypto
public import Foundation
public import RoadsideDomain

/// What proves who sent a request: the terminal id, the time, a fresh nonce and the Ed25519
/// signature of ``RequestSigning/message(method:target:body:terminal:timestamp:nonce:)`` by
/// the terminal's key. Carried in four headers over HTTP.
public struct RequestCredentials: Sendable, Equatable {
  public static let terminalHeader = "Roadside-Terminal"
  public static let timestampHeader = "Roadside-Timestamp"
  public static let nonceHeader = "Roadside-Nonce"
  public static let signatureHeader = "Roadside-Signature"

  public let terminal: String
  /// ISO 8601 with offset, as ``Timestamp`` writes it.
  public let timestamp: String
  /// 16 random bytes in hexadecimal: central refuses a nonce it has seen from the terminal.
  public let nonce: String
  /// Base64 Ed25519 signature.
  public let signature: String

  public init(terminal: String, timestamp: String, nonce: String, signature: String) {
    self.terminal = terminal
    self.timestamp = timestamp
    self.nonce = nonce
    self.signature = signature
  }

  /// The headers, name and value.
  public var headers: [(name: String, value: String)] {
    [
      (Self.terminalHeader, terminal), (Self.timestampHeader, timestamp),
      (Self.nonceHeader, nonce), (Self.signatureHeader, signature),
    ]
  }

  /// Reads the four headers with `header` (case-insensitive names); nil when any is missing.
  public init?(header: (String) -> String?) {
    guard let terminal = header(Self.terminalHeader),
      let timestamp = header(Self.timestampHeader), let nonce = header(Self.nonceHeader),
      let signature = header(Self.signatureHeader)
    else { return nil }
    self.init(terminal: terminal, timestamp: timestamp, nonce: nonce, signature: signature)
  }
}

/// A request as central authenticates it: the method, the target exactly as sent (path and
/// query), the body's bytes and the credentials that came with it, if any.
public struct SignedRequest: Sendable {
  public let method: String
  public let target: String
  public let body: Data
  public let credentials: RequestCredentials?

  public init(method: String, target: String, body: Data, credentials: RequestCredentials?) {
    self.method = method
    self.target = target
    self.body = body
    self.credentials = credentials
  }
}

/// The signed form of a request (`docs/security.md`, "Requests"):
///
///     roadside-v1 \n METHOD \n TARGET \n hex(SHA-256(body)) \n TIMESTAMP \n NONCE \n TERMINAL
///
/// Central accepts it within ±``windowSeconds`` of its own clock and once per nonce.
public enum RequestSigning {
  public static let windowSeconds: Int64 = 300

  public static func message(
    method: String, target: String, body: Data, terminal: String, timestamp: String,
    nonce: String
  ) -> Data {
    let digest = Hex.sha256(body)
    return Data(
      "roadside-v1\n\(method)\n\(target)\n\(digest)\n\(timestamp)\n\(nonce)\n\(terminal)".utf8)
  }

  /// Whether `request` carries a signature by `publicKey` (raw 32 bytes).
  public static func isValid(_ request: SignedRequest, publicKey: [UInt8]) -> Bool {
    guard let credentials = request.credentials else { return false }
    return SignatureCheck.isValid(
      credentials.signature, by: publicKey,
      over: message(
        method: request.method, target: request.target, body: request.body,
        terminal: credentials.terminal, timestamp: credentials.timestamp,
        nonce: credentials.nonce))
  }
}

/// Signs a terminal's requests with its private key, at its own clock's time.
public struct RequestSigner: Sendable {
  public let terminal: String
  let privateKey: [UInt8]
  let clock: any Clock

  public init(terminal: String, privateKey: [UInt8], clock: any Clock) {
    self.terminal = terminal
    self.privateKey = privateKey
    self.clock = clock
  }

  /// The raw public key that goes with the signing key.
  public var publicKey: [UInt8] {
    get throws(SigningError) { try SigningKey(seed: privateKey).publicKey }
  }

  /// Signs one request. The nonce comes from the system's random source, so that a
  /// terminal restarted from its file never repeats one.
  public func sign(method: String, target: String, body: Data) throws(SigningError)
    -> SignedRequest
  {
    var generator = SystemRandomNumberGenerator()
    let nonce = Hex.encode(
      (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    let timestamp = clock.now().description
    let text = RequestSigning.message(
      method: method, target: target, body: body, terminal: terminal, timestamp: timestamp,
      nonce: nonce)
    let signature = try SigningKey(seed: privateKey).sign(text)
    return SignedRequest(
      method: method, target: target, body: body,
      credentials: RequestCredentials(
        terminal: terminal, timestamp: timestamp, nonce: nonce, signature: signature))
  }
}
