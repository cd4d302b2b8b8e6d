public import Crypto
import Foundation
public import RoadsideDomain

/// Ed25519 verification as every check in Roadside does it (RFC 8032, through swift-crypto).
public enum Ed25519 {
  public static func verify(publicKey: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
    guard publicKey.count == 32, signature.count == 64,
      let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
    else { return false }
    return key.isValidSignature(signature, for: message)
  }

  /// The same over a slice of a larger buffer, without copying it out.
  static func verify(publicKey: [UInt8], message: ArraySlice<UInt8>, signature: [UInt8]) -> Bool {
    guard publicKey.count == 32, signature.count == 64,
      let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
    else { return false }
    return key.isValidSignature(signature, for: message)
  }
}

/// Where an issuer key stands in the key ring.
public enum IssuerKeyState: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  /// Signs new e-licences.
  case active
  /// No longer signs; still verifies what it signed while valid.
  case retired
  /// Verifies nothing.
  case revoked
}

/// A trusted issuer key: what terminals sync from central.
public struct IssuerKey: Sendable, Hashable, Codable {
  public let kid: String
  public let publicKey: [UInt8]
  /// The key may sign credentials issued in [validFrom, validUntil].
  public let validFrom: Timestamp
  public let validUntil: Timestamp
  public let state: IssuerKeyState

  public init(
    kid: String, publicKey: [UInt8], validFrom: Timestamp, validUntil: Timestamp,
    state: IssuerKeyState
  ) {
    self.kid = kid
    self.publicKey = publicKey
    self.validFrom = validFrom
    self.validUntil = validUntil
    self.state = state
  }

  /// Key ids are 1–32 characters of letters, digits and dashes.
  public static func isValidKid(_ kid: String) -> Bool {
    (1...32).contains(kid.utf8.count)
      && kid.utf8.allSatisfy {
        (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || $0 == 45
      }
  }
}

/// The claims a credential can disclose (docs/elicence-format.md).
public enum ClaimName: String, Sendable, CaseIterable, Codable {
  case number = "no"
  case name = "nm"
  case sex = "sx"
  case birthDate = "bd"
  case classes = "cl"
  case validityTerm = "vt"
  case validFrom = "vf"
  case validUntil = "vu"
  case firstIssued = "fi"
  case address = "ad"
}

/// The issuer-signed part of a credential.
public struct CredentialClaims: Sendable, Equatable, Codable {
  public let iss: String
  public let ep: Int
  public let iat: Int64
  public let nbf: Int64
  public let exp: Int64
  public let cnf: String
  public let sd: [String]

  public init(iss: String, ep: Int, iat: Int64, nbf: Int64, exp: Int64, cnf: String, sd: [String]) {
    self.iss = iss
    self.ep = ep
    self.iat = iat
    self.nbf = nbf
    self.exp = exp
    self.cnf = cnf
    self.sd = sd
  }
}

/// A credential as the phone stores it: the issuer part and every disclosure.
public struct Credential: Sendable, Equatable, Codable {
  /// `b64(header) "." b64(claims) "." b64(signature)`.
  public let issuerPart: String
  /// b64 disclosures, by claim.
  public let disclosures: [String: String]

  public init(issuerPart: String, disclosures: [String: String]) {
    self.issuerPart = issuerPart
    self.disclosures = disclosures
  }
}

/// Issues credentials (central).
public enum CredentialIssuer {
  /// How many times ``issue(licence:epoch:devicePublicKey:kid:issuerKey:issuedAt:expires:salt:)``
  /// calls its `salt`: once per selectively disclosable claim.
  public static let saltsPerCredential = 10

  /// Signs a credential for `licence`, bound to `devicePublicKey`. `salts` supplies 12
  /// random bytes per claim (the caller's random source).
  public static func issue(
    licence: Licence, epoch: Int, devicePublicKey: [UInt8], kid: String,
    issuerKey: Curve25519.Signing.PrivateKey,
    issuedAt: Timestamp, expires: Timestamp, salt: () -> [UInt8]
  ) throws -> Credential {
    let values: [(ClaimName, String)] = [
      (.number, licence.number.value), (.name, licence.name),
      (.sex, licence.gender == .male ? "M" : "F"),
      (.birthDate, licence.birthDate.description), (.classes, licence.classes.code),
      (.validityTerm, licence.validity.term.rawValue),
      (.validFrom, licence.validity.validFrom.description),
      (.validUntil, licence.validity.validUntil?.description ?? "-"),
      (.firstIssued, licence.firstIssued.description), (.address, licence.address),
    ]
    assert(values.count == saltsPerCredential)
    var disclosures: [String: String] = [:]
    var digests: [String] = []
    for (name, value) in values {
      let array = [Base64URL.encode(salt()), name.rawValue, value]
      let json = try JSONSerialization.data(
        withJSONObject: array, options: [.withoutEscapingSlashes])
      let disclosure = Base64URL.encode(json)
      disclosures[name.rawValue] = disclosure
      digests.append(ELicence.digest(ofDisclosure: disclosure))
    }
    let header = Base64URL.encode(Data("{\"alg\":\"EdDSA\",\"kid\":\"\(kid)\"}".utf8))
    let claims = CredentialClaims(
      iss: licence.authority.code, ep: epoch, iat: issuedAt.secondsSinceEpoch,
      nbf: issuedAt.secondsSinceEpoch, exp: expires.secondsSinceEpoch,
      cnf: Base64URL.encode(devicePublicKey), sd: digests.sorted())
    let body = Base64URL.encode(try ELicence.claimsJSON(claims))
    let signingInput = Array("\(header).\(body)".utf8)
    let signature = try issuerKey.signature(for: signingInput)
    return Credential(
      issuerPart: "\(header).\(body).\(Base64URL.encode(signature))", disclosures: disclosures)
  }
}

/// Makes the code the phone displays (the holder).
public enum CredentialPresenter {
  /// `disclose` lists the claims to show; the presentation id is 12 random bytes from the
  /// caller.
  public static func present(
    _ credential: Credential, disclose: [ClaimName], deviceKey: Curve25519.Signing.PrivateKey,
    at time: Timestamp, presentationID: [UInt8], nonce: String?
  ) throws -> String {
    let shown = disclose.compactMap { credential.disclosures[$0.rawValue] }
    let prefix = "EL1.\(credential.issuerPart)~" + shown.map { "\($0)~" }.joined()
    let hash = Base64URL.encode(Array(SHA256.hash(data: Array(prefix.utf8))))
    var binding =
      "{\"h\":\"\(hash)\",\"t\":\(time.secondsSinceEpoch),\"p\":\"\(Base64URL.encode(presentationID))\""
    if let nonce {
      let quoted = String(
        decoding: try JSONSerialization.data(withJSONObject: [nonce]), as: UTF8.self)
      binding += ",\"n\":\(quoted.dropFirst().dropLast())"
    }
    binding += "}"
    let encoded = Base64URL.encode(Data(binding.utf8))
    let signature = try deviceKey.signature(for: Array(encoded.utf8))
    return prefix + encoded + "." + Base64URL.encode(signature)
  }
}
