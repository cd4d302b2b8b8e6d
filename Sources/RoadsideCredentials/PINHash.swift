import Crypto
import Foundation
import _CryptoExtras

/// A slow, salted hash of an officer's PIN: PBKDF2-HMAC-SHA256, written as
/// `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>`.
///
/// The iteration count travels with the hash. A PIN an officer chooses is hashed with
/// 600,000 iterations, the count the OWASP Password Storage Cheat Sheet recommends for
/// PBKDF2-HMAC-SHA256 (2023); central refuses a chosen PIN hashed with fewer. The initial
/// PINs of fixtures (the police number, which is no secret) are hashed with 20,000 and must
/// be changed at first login. A PIN has only a million values: the hash slows an offline
/// guess, while the lockout after 5 wrong PINs (on the terminal and at central) is what
/// stops guessing at the roadside.
///
/// Central keeps this hash and never sends it: each terminal receives a
/// ``TerminalPINVerifier`` bound to its own id.
public struct PINHash: Sendable, Hashable, Codable, CustomStringConvertible {
  public static let defaultIterations = 600_000
  /// What generated fixtures use for the initial PIN, so that a thousand officers hash in
  /// seconds. Such a PIN must be changed at first login.
  public static let fixtureIterations = 20_000

  public let iterations: Int
  public let salt: [UInt8]
  public let hash: [UInt8]

  /// Hashes `pin` with `salt` (16 bytes from the caller's random source).
  public init(pin: String, salt: [UInt8], iterations: Int = PINHash.defaultIterations) throws {
    try PINHash.validate(pin: pin)
    self.iterations = iterations
    self.salt = salt
    self.hash = try PINHash.derive(pin: pin, salt: salt, iterations: iterations)
  }

  /// Parses the stored form.
  public init(encoded: String) throws {
    let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]),
      iterations >= 1_000, let salt = Data(base64Encoded: String(parts[2])),
      let hash = Data(base64Encoded: String(parts[3])), salt.count >= 8, hash.count == 32
    else {
      throw PINError.malformedHash
    }
    self.iterations = iterations
    self.salt = [UInt8](salt)
    self.hash = [UInt8](hash)
  }

  public var encoded: String {
    "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
  }

  public var description: String { encoded }

  /// Compares in constant time.
  public func matches(_ pin: String) -> Bool {
    guard (try? PINHash.validate(pin: pin)) != nil,
      let candidate = try? PINHash.derive(pin: pin, salt: salt, iterations: iterations)
    else { return false }
    return constantTimeEqual(candidate, hash)
  }

  /// Refuses a new PIN that is easy to guess: the officer's police number (every initial
  /// PIN), one digit six times, or six digits counting up or down.
  public static func validateNew(pin: String, officer: String) throws {
    try validate(pin: pin)
    let digits = pin.utf8.map { Int($0) - 48 }
    if pin == officer {
      throw PINError.weak("the new PIN must not be the police number")
    }
    if Set(digits).count == 1 {
      throw PINError.weak("the new PIN must not be one digit six times")
    }
    let steps = Set(zip(digits, digits.dropFirst()).map { ($1 - $0 + 10) % 10 })
    if steps == [1] || steps == [9] {
      throw PINError.weak("the new PIN must not be six digits counting up or down")
    }
  }

  /// A PIN is 6 digits.
  public static func validate(pin: String) throws {
    guard pin.utf8.count == 6, pin.utf8.allSatisfy({ (48...57).contains($0) }) else {
      throw PINError.badFormat
    }
  }

  /// The verifier sent to `terminal`: the same salt and iterations, and an HMAC-SHA256 of
  /// the terminal's id keyed with this hash. It checks a PIN only on that terminal, and
  /// tells nothing that would let another terminal (or a copy of its file) check one.
  public func bound(to terminal: String) -> TerminalPINVerifier {
    TerminalPINVerifier(
      iterations: iterations, salt: salt,
      mac: TerminalPINVerifier.mac(key: hash, terminal: terminal))
  }

  static func derive(pin: String, salt: [UInt8], iterations: Int) throws -> [UInt8] {
    let key = try KDF.Insecure.PBKDF2.deriveKey(
      from: Array(pin.utf8), salt: salt, using: .sha256, outputByteCount: 32,
      unsafeUncheckedRounds: iterations)
    return key.withUnsafeBytes { [UInt8]($0) }
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    try self.init(encoded: try container.decode(String.self))
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(encoded)
  }
}

/// An officer's PIN verifier as one terminal holds it, written
/// `pbkdf2-sha256-terminal$<iterations>$<salt base64>$<mac base64>`: the terminal derives
/// PBKDF2-HMAC-SHA256 from the PIN typed and the salt, then compares
/// HMAC-SHA256(derived, "roadside-pin-terminal-v1\n" + its own id) with `mac`. A verifier
/// copied into another terminal's file verifies no PIN there; guessing a PIN from it still
/// costs the full iteration count per guess.
public struct TerminalPINVerifier: Sendable, Hashable, CustomStringConvertible {
  public let iterations: Int
  public let salt: [UInt8]
  public let mac: [UInt8]

  init(iterations: Int, salt: [UInt8], mac: [UInt8]) {
    self.iterations = iterations
    self.salt = salt
    self.mac = mac
  }

  public init(encoded: String) throws {
    let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0] == "pbkdf2-sha256-terminal", let iterations = Int(parts[1]),
      iterations >= 1_000, let salt = Data(base64Encoded: String(parts[2])),
      let mac = Data(base64Encoded: String(parts[3])), salt.count >= 8, mac.count == 32
    else {
      throw PINError.malformedHash
    }
    self.iterations = iterations
    self.salt = [UInt8](salt)
    self.mac = [UInt8](mac)
  }

  public var encoded: String {
    "pbkdf2-sha256-terminal$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(mac).base64EncodedString())"
  }

  public var description: String { encoded }

  /// Whether `pin` is the officer's PIN, checked on `terminal` (constant-time compare).
  public func matches(_ pin: String, terminal: String) -> Bool {
    derivedHash(of: pin, terminal: terminal) != nil
  }

  /// The hash central keeps (PBKDF2 of `pin`), when `pin` is the officer's PIN: what a login
  /// proves knowledge of (``LoginProof``). The terminal holds it only while it logs in.
  public func derivedHash(of pin: String, terminal: String) -> [UInt8]? {
    guard (try? PINHash.validate(pin: pin)) != nil,
      let derived = try? PINHash.derive(pin: pin, salt: salt, iterations: iterations)
    else { return nil }
    let candidate = TerminalPINVerifier.mac(key: derived, terminal: terminal)
    guard constantTimeEqual(candidate, mac) else { return nil }
    return derived
  }

  static func mac(key: [UInt8], terminal: String) -> [UInt8] {
    let code = HMAC<SHA256>.authenticationCode(
      for: Data("roadside-pin-terminal-v1\n\(terminal)".utf8), using: SymmetricKey(data: key))
    return [UInt8](code)
  }
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
  var difference: UInt8 = 0
  for (x, y) in zip(a, b) { difference |= x ^ y }
  return difference == 0 && a.count == b.count
}

public enum PINError: Error, Sendable, Equatable, CustomStringConvertible {
  case badFormat
  case malformedHash
  /// A new PIN that is the old one, the police number, one digit six times or a run.
  case weak(String)

  public var description: String {
    switch self {
    case .badFormat: "a PIN is exactly 6 digits"
    case .malformedHash:
      "a PIN hash is written pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>"
    case .weak(let why): why
    }
  }
}
