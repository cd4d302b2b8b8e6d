import Crypto
import Foundation
import _CryptoExtras

/// A slow, salted hash of an officer's PIN: PBKDF2-HMAC-SHA256, written as
/// `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>`.
///
/// The iteration count travels with the hash, so hashes set at central (the default,
/// 210,000 iterations) and the lighter ones of generated training fixtures verify the same
/// way. A PIN has only a million values: the hash slows an offline guess, while the
/// terminal's lockout after 5 wrong PINs is what stops guessing at the roadside.
public struct PINHash: Sendable, Hashable, Codable, CustomStringConvertible {
  public static let defaultIterations = 210_000
  /// What generated fixtures use, so that a thousand officers hash in seconds.
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
    var difference: UInt8 = 0
    for (a, b) in zip(candidate, hash) { difference |= a ^ b }
    return difference == 0 && candidate.count == hash.count
  }

  /// A PIN is 6 digits.
  public static func validate(pin: String) throws {
    guard pin.utf8.count == 6, pin.utf8.allSatisfy({ (48...57).contains($0) }) else {
      throw PINError.badFormat
    }
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

public enum PINError: Error, Sendable, Equatable, CustomStringConvertible {
  case badFormat
  case malformedHash

  public var description: String {
    switch self {
    case .badFormat: "a PIN is exactly 6 digits"
    case .malformedHash:
      "a PIN hash is written pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>"
    }
  }
}
