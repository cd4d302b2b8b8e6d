import Crypto
public import Foundation

/// The one canonical JSON form of the protocol: keys sorted, slashes unescaped, no spaces.
/// Signatures cover it (batches, documents), the change log stores payloads in it and
/// terminals keep acknowledgements in it, so that one value always gives the same bytes.
public enum CanonicalJSON {
  /// The value's canonical bytes.
  public static func data(_ value: some Encodable) throws(SigningError) -> Data {
    do {
      return try encoder.encode(value)
    } catch {
      throw SigningError("cannot encode \(type(of: value)) as JSON: \(error)")
    }
  }

  /// The value's canonical text.
  public static func string(_ value: some Encodable) throws(SigningError) -> String {
    String(decoding: try data(value), as: UTF8.self)
  }

  private static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()
}

/// Signing or verifying could not proceed: a value did not encode, or a key is not an
/// Ed25519 key. Nothing is ever signed in place of what could not be encoded.
public struct SigningError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// An Ed25519 signing key as the protocol uses it: terminals sign their batches, documents
/// and requests with theirs, central signs the decisions its units make. Signatures travel
/// in base64.
public struct SigningKey: Sendable {
  /// The raw 32-byte seed, for the owner's store.
  public let seed: [UInt8]
  // The key itself is not Sendable; it is derived from the seed where it is used.
  private func key() throws(SigningError) -> Curve25519.Signing.PrivateKey {
    do {
      return try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    } catch {
      throw SigningError("the signing key is not a 32-byte Ed25519 seed")
    }
  }

  /// A key from its raw 32-byte seed.
  public init(seed: some ContiguousBytes) throws(SigningError) {
    do {
      self.init(try Curve25519.Signing.PrivateKey(rawRepresentation: seed))
    } catch {
      throw SigningError("the signing key is not a 32-byte Ed25519 seed")
    }
  }

  /// A new key from the system's random source.
  public static func generate() -> SigningKey { SigningKey(Curve25519.Signing.PrivateKey()) }

  private init(_ key: Curve25519.Signing.PrivateKey) {
    seed = [UInt8](key.rawRepresentation)
    publicKey = [UInt8](key.publicKey.rawRepresentation)
  }

  /// The raw 32-byte public key.
  public let publicKey: [UInt8]

  /// The base64 signature of `message`.
  public func sign(_ message: some DataProtocol) throws(SigningError) -> String {
    let key = try key()
    do {
      return try key.signature(for: message).base64EncodedString()
    } catch {
      throw SigningError("Ed25519 signing failed: \(error)")
    }
  }

  /// The base64 signature of the value's canonical JSON.
  public func sign(canonical value: some Encodable) throws(SigningError) -> String {
    try sign(CanonicalJSON.data(value))
  }
}

/// Checking an Ed25519 signature that arrived in base64.
public enum SignatureCheck {
  /// Whether `signature` (base64) is by `publicKey` (raw 32 bytes) over `message`. A key or
  /// signature that does not decode verifies nothing.
  public static func isValid(
    _ signature: String, by publicKey: some ContiguousBytes, over message: some DataProtocol
  ) -> Bool {
    guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey),
      let raw = Data(base64Encoded: signature)
    else { return false }
    return key.isValidSignature(raw, for: message)
  }

  /// The same, with the public key in base64 as central keeps it.
  public static func isValid(
    _ signature: String, byBase64Key publicKey: String?, over message: some DataProtocol
  ) -> Bool {
    guard let publicKey, let raw = Data(base64Encoded: publicKey) else { return false }
    return isValid(signature, by: raw, over: message)
  }
}
