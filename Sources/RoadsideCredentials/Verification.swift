import Crypto
import Foundation
public import RoadsideDomain

/// Why a presentation failed the cryptographic and freshness checks (docs/elicence-format.md).
public enum PresentationFailure: String, Error, Sendable, Codable, CaseIterable {
  case malformed
  case unsupportedVersion = "unsupported_version"
  case unsupportedHeader = "unsupported_header"
  case algorithmNotAllowed = "algorithm_not_allowed"
  case unknownKey = "unknown_key"
  case keyRevoked = "key_revoked"
  case keyNotValid = "key_not_valid"
  case badIssuerSignature = "bad_issuer_signature"
  case badDisclosure = "bad_disclosure"
  case badDeviceSignature = "bad_device_signature"
  case wrongCredential = "wrong_credential"
  case presentationExpired = "presentation_expired"
  case presentationInFuture = "presentation_in_future"
  case replay
  case nonceMismatch = "nonce_mismatch"
  case credentialExpired = "credential_expired"
  case credentialNotYetValid = "credential_not_yet_valid"
}

/// What a presentation that passed proves: the issuer-signed claims and the disclosed values.
public struct PresentedCredential: Sendable, Equatable {
  public let kid: String
  public let claims: CredentialClaims
  public let disclosed: [ClaimName: String]
  public let presentationID: String
  public let displayedAt: Timestamp
  public let nonce: String?
}

/// Freshness settings (DESIGN §3: 60 s window, 30 s leeway, both configurable).
public struct FreshnessPolicy: Sendable, Equatable {
  public var windowSeconds: Int64
  public var leewaySeconds: Int64

  public init(windowSeconds: Int64 = 60, leewaySeconds: Int64 = 30) {
    self.windowSeconds = windowSeconds
    self.leewaySeconds = leewaySeconds
  }
}

/// Remembers presentation ids for their window: a second sighting is a replay.
public protocol ReplayGuard {
  /// Records `id` until `until`; returns false when it was already recorded and unexpired.
  mutating func firstSighting(of id: String, until: Timestamp, now: Timestamp) -> Bool
}

/// A replay guard in memory (tests, scenarios); terminals keep theirs in SQLite.
public struct MemoryReplayGuard: ReplayGuard, Sendable {
  private var seen: [String: Timestamp] = [:]
  public init() {}
  public mutating func firstSighting(of id: String, until: Timestamp, now: Timestamp) -> Bool {
    if let expiry = seen[id], expiry >= now { return false }
    seen[id] = until
    return true
  }
}

extension ELicence {
  /// Verifies a presentation code, offline: parse, issuer key and signature, disclosures,
  /// device signature and binding, freshness, replay, nonce, credential validity. Pure but
  /// for the replay guard it updates.
  public static func verify(
    _ code: String, keys: [IssuerKey], now: Timestamp, expectedNonce: String?,
    policy: FreshnessPolicy = FreshnessPolicy(), replays: inout some ReplayGuard
  ) -> Result<PresentedCredential, PresentationFailure> {
    guard code.hasPrefix("EL1.") else {
      if code.hasPrefix("EL"), code.dropFirst(2).first?.isNumber == true {
        return .failure(.unsupportedVersion)
      }
      return .failure(.malformed)
    }
    // Work on the code's bytes throughout: it is ASCII, and byte slices are far cheaper than
    // strings or characters.
    let bytes = Array(code.utf8)
    guard bytes.allSatisfy({ $0 > 32 && $0 < 127 }) else { return .failure(.malformed) }
    let parts = pieces(bytes[4...], UInt8(ascii: "~"))
    guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else { return .failure(.malformed) }
    let issuerPart = parts[0]
    let presentationPart = parts[parts.count - 1]
    let issuerSegments = pieces(issuerPart, UInt8(ascii: "."))
    let presentationSegments = pieces(presentationPart, UInt8(ascii: "."))
    guard issuerSegments.count == 3, presentationSegments.count == 2,
      let headerBytes = Base64URL.decode(ascii: issuerSegments[0]),
      let claimsBytes = Base64URL.decode(ascii: issuerSegments[1]),
      let issuerSignature = Base64URL.decode(ascii: issuerSegments[2]),
      let bindingBytes = Base64URL.decode(ascii: presentationSegments[0]),
      let deviceSignature = Base64URL.decode(ascii: presentationSegments[1])
    else { return .failure(.malformed) }

    // Header: exactly alg and kid; the algorithm is pinned, never taken from the input.
    var headerReader = JSONStrings.Reader(bytes: headerBytes)
    guard let header = headerReader.object() else {
      // Not a flat object of strings: an extra member of another shape is still an
      // unsupported header, anything else malformed.
      if let object = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
        Set(object.keys) != ["alg", "kid"]
      {
        return .failure(.unsupportedHeader)
      }
      return .failure(.malformed)
    }
    guard header.count == 2, let algValue = header["alg"], let kidValue = header["kid"] else {
      return .failure(.unsupportedHeader)
    }
    guard let alg = algValue.string, let kid = kidValue.string else {
      return .failure(.malformed)
    }
    guard alg == "EdDSA" else { return .failure(.algorithmNotAllowed) }
    guard IssuerKey.isValidKid(kid) else { return .failure(.unknownKey) }

    guard let claims = strictClaims(claimsBytes) else { return .failure(.malformed) }
    guard let key = keys.first(where: { $0.kid == kid }) else { return .failure(.unknownKey) }
    guard key.state != .revoked else { return .failure(.keyRevoked) }
    guard claims.iat >= key.validFrom.secondsSinceEpoch,
      claims.iat <= key.validUntil.secondsSinceEpoch
    else {
      return .failure(.keyNotValid)
    }
    // The signing input is the issuer part up to its last ".": header "." claims.
    let signingInput = issuerPart[..<(issuerSegments[2].startIndex - 1)]
    guard
      Ed25519.verify(publicKey: key.publicKey, message: signingInput, signature: issuerSignature)
    else {
      return .failure(.badIssuerSignature)
    }

    // Disclosures: each one committed to by the issuer, no claim twice.
    var disclosed: [ClaimName: String] = [:]
    for disclosure in parts[1..<(parts.count - 1)] {
      let digest = Base64URL.encodedBytes(sha256(disclosure).prefix(16))
      guard claims.sd.contains(where: { $0.utf8.elementsEqual(digest) }),
        let decoded = Base64URL.decode(ascii: disclosure),
        let array = JSONStrings.parseArray(decoded), array.count == 3,
        let name = ClaimName(rawValue: array[1]), disclosed[name] == nil
      else { return .failure(.badDisclosure) }
      disclosed[name] = array[2]
    }

    // The phone's signature, and that it signed this credential with these disclosures.
    guard let devicePublicKey = Base64URL.decode(claims.cnf),
      Ed25519.verify(
        publicKey: devicePublicKey, message: presentationSegments[0],
        signature: deviceSignature)
    else { return .failure(.badDeviceSignature) }
    guard let binding = strictBinding(bindingBytes) else { return .failure(.malformed) }
    let prefix = bytes[..<presentationPart.startIndex]
    guard binding.h.utf8.elementsEqual(Base64URL.encodedBytes(sha256(prefix))) else {
      return .failure(.wrongCredential)
    }

    // Freshness, replay, nonce.
    let shown = binding.t
    guard shown >= now.secondsSinceEpoch - policy.windowSeconds - policy.leewaySeconds else {
      return .failure(.presentationExpired)
    }
    guard shown <= now.secondsSinceEpoch + policy.leewaySeconds else {
      return .failure(.presentationInFuture)
    }
    let until = Timestamp(secondsSinceEpoch: shown + policy.windowSeconds + policy.leewaySeconds)
    guard replays.firstSighting(of: binding.p, until: until, now: now) else {
      return .failure(.replay)
    }
    if let expectedNonce, binding.n != expectedNonce { return .failure(.nonceMismatch) }

    guard now.secondsSinceEpoch <= claims.exp else { return .failure(.credentialExpired) }
    guard now.secondsSinceEpoch >= claims.nbf else { return .failure(.credentialNotYetValid) }
    return .success(
      PresentedCredential(
        kid: kid, claims: claims, disclosed: disclosed, presentationID: binding.p,
        displayedAt: Timestamp(secondsSinceEpoch: shown), nonce: binding.n))
  }

  /// The runs of `bytes` between `separator`s, empty ones included — `split(separator:
  /// omittingEmptySubsequences: false)` without the generic machinery that showed in
  /// profiles.
  static func pieces(_ bytes: ArraySlice<UInt8>, _ separator: UInt8) -> [ArraySlice<UInt8>] {
    var result: [ArraySlice<UInt8>] = []
    var start = bytes.startIndex
    for index in bytes.indices where bytes[index] == separator {
      result.append(bytes[start..<index])
      start = index + 1
    }
    result.append(bytes[start...])
    return result
  }

  struct Binding {
    let h: String
    let t: Int64
    let p: String
    let n: String?
  }

  /// Reads a flat object whose keys are exactly `required` plus any of `optional` (the two
  /// lists share no key).
  static func flat(_ bytes: [UInt8], required: [String], optional: [String] = []) -> FlatObject? {
    var reader = JSONStrings.Reader(bytes: bytes)
    guard let object = reader.object(),
      required.allSatisfy({ object[$0] != nil }),
      object.count == required.count + optional.count(where: { object[$0] != nil })
    else { return nil }
    return object
  }

  /// SHA-256 of `bytes`, without going through the generic data path.
  static func sha256(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
    var hasher = SHA256()
    bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    return hasher.finalize().withUnsafeBytes { Array($0) }
  }

  static func strictClaims(_ bytes: [UInt8]) -> CredentialClaims? {
    guard let o = flat(bytes, required: ["iss", "ep", "iat", "nbf", "exp", "cnf", "sd"]),
      let iss = o["iss"]?.string, let ep = o["ep"]?.integer, let iat = o["iat"]?.integer,
      let nbf = o["nbf"]?.integer, let exp = o["exp"]?.integer, let cnf = o["cnf"]?.string,
      let sd = o["sd"]?.strings,
      ep >= 1, ep <= Int64(Int32.max)
    else { return nil }
    return CredentialClaims(iss: iss, ep: Int(ep), iat: iat, nbf: nbf, exp: exp, cnf: cnf, sd: sd)
  }

  static func strictBinding(_ bytes: [UInt8]) -> Binding? {
    guard let o = flat(bytes, required: ["h", "t", "p"], optional: ["n"]), let h = o["h"]?.string,
      let t = o["t"]?.integer, let p = o["p"]?.string
    else { return nil }
    if let n = o["n"], n.string == nil { return nil }
    return Binding(h: h, t: t, p: p, n: o["n"]?.string)
  }
}

/// The EL1 format's shared pieces.
public enum ELicence {
  /// b64 of the first 16 bytes of SHA-256 over the disclosure's b64 text.
  public static func digest(ofDisclosure disclosure: String) -> String {
    Base64URL.encode(Array(SHA256.hash(data: Array(disclosure.utf8))).prefix(16))
  }

  /// The claims as compact JSON with the members in the documented order.
  static func claimsJSON(_ c: CredentialClaims) throws -> Data {
    let digests = c.sd.map { "\"\($0)\"" }.joined(separator: ",")
    let issuer = String(
      decoding: try JSONSerialization.data(withJSONObject: [c.iss]), as: UTF8.self
    ).dropFirst().dropLast()
    return Data(
      "{\"iss\":\(issuer),\"ep\":\(c.ep),\"iat\":\(c.iat),\"nbf\":\(c.nbf),\"exp\":\(c.exp),\"cnf\":\"\(c.cnf)\",\"sd\":[\(digests)]}"
        .utf8)
  }
}

/// A flat JSON object's members in order. Objects here have at most a handful of members, so
/// a linear search beats hashing every key (which showed in profiles).
struct FlatObject {
  /// More members than any EL1 object has (at most 7); larger objects are refused.
  static let maximumMembers = 32
  var members: [(key: String, value: FlatValue)] = []
  var count: Int { members.count }
  subscript(key: String) -> FlatValue? { members.first { $0.key == key }?.value }
}

/// A value of a flat JSON object.
enum FlatValue: Equatable {
  case string(String)
  case integer(Int64)
  case strings([String])

  var string: String? { if case .string(let value) = self { value } else { nil } }
  var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
  var strings: [String]? { if case .strings(let value) = self { value } else { nil } }
}

/// A strict reader for a JSON array of strings (a disclosure): `["…","…",…]` with the JSON
/// escapes, nothing else. Returns nil for anything that is not exactly that.
enum JSONStrings {
  static func parseArray(_ bytes: [UInt8]) -> [String]? {
    var reader = Reader(bytes: bytes)
    return reader.array()
  }

  struct Reader {
    let bytes: [UInt8]
    var index = 0

    mutating func skipSpace() {
      while index < bytes.count,
        bytes[index] == 32 || bytes[index] == 9 || bytes[index] == 10 || bytes[index] == 13
      {
        index += 1
      }
    }

    mutating func expect(_ byte: UInt8) -> Bool {
      skipSpace()
      guard index < bytes.count, bytes[index] == byte else { return false }
      index += 1
      return true
    }

    mutating func array() -> [String]? {
      guard expect(UInt8(ascii: "[")) else { return nil }
      var result: [String] = []
      repeat {
        guard let item = string() else { return nil }
        result.append(item)
      } while expect(UInt8(ascii: ","))
      guard expect(UInt8(ascii: "]")) else { return nil }
      skipSpace()
      return index == bytes.count ? result : nil
    }

    /// A flat object whose values are strings, integers or arrays of strings; nil for
    /// anything else, including a key twice.
    mutating func object() -> FlatObject? {
      guard expect(UInt8(ascii: "{")) else { return nil }
      var result = FlatObject()
      if expect(UInt8(ascii: "}")) { return finished(result) }
      repeat {
        // No object of the format has more than a few members; a cap keeps the linear
        // duplicate check cheap on hostile input.
        guard result.count < FlatObject.maximumMembers, let key = string(),
          expect(UInt8(ascii: ":")), result[key] == nil
        else { return nil }
        skipSpace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "\""):
          guard let value = string() else { return nil }
          result.members.append((key, .string(value)))
        case UInt8(ascii: "["):
          index += 1
          var items: [String] = []
          if !expect(UInt8(ascii: "]")) {
            repeat {
              guard let item = string() else { return nil }
              items.append(item)
            } while expect(UInt8(ascii: ","))
            guard expect(UInt8(ascii: "]")) else { return nil }
          }
          result.members.append((key, .strings(items)))
        default:
          let start = index
          if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
          while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
          guard index > start, index - start <= 18,
            let value = Int64(String(decoding: bytes[start..<index], as: UTF8.self))
          else { return nil }
          result.members.append((key, .integer(value)))
        }
      } while expect(UInt8(ascii: ","))
      guard expect(UInt8(ascii: "}")) else { return nil }
      return finished(result)
    }

    mutating func finished<T>(_ value: T) -> T? {
      skipSpace()
      return index == bytes.count ? value : nil
    }

    mutating func hex4() -> UInt32? {
      guard index + 4 <= bytes.count else { return nil }
      var value: UInt32 = 0
      for byte in bytes[index..<(index + 4)] {
        let digit: UInt32
        switch byte {
        case 48...57: digit = UInt32(byte - 48)
        case 65...70: digit = UInt32(byte - 55)
        case 97...102: digit = UInt32(byte - 87)
        default: return nil
        }
        value = value << 4 | digit
      }
      index += 4
      return value
    }

    mutating func string() -> String? {
      guard expect(UInt8(ascii: "\"")) else { return nil }
      // Fast path: plain printable ASCII up to the closing quote needs neither unescaping
      // nor UTF-8 validation (most of a code's strings: digests, keys, ids, codes).
      var end = index
      while end < bytes.count, bytes[end] >= 0x20, bytes[end] < 0x80,
        bytes[end] != UInt8(ascii: "\\"), bytes[end] != UInt8(ascii: "\"")
      {
        end += 1
      }
      if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
        defer { index = end + 1 }
        return String(decoding: bytes[index..<end], as: UTF8.self)
      }
      var out: [UInt8] = []
      while index < bytes.count {
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\"") { return String(validating: out, as: UTF8.self) }
        guard byte >= 0x20 else { return nil }
        guard byte == UInt8(ascii: "\\") else {
          out.append(byte)
          continue
        }
        guard index < bytes.count else { return nil }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "u"):
          guard var value = hex4() else { return nil }
          if (0xD800...0xDBFF).contains(value) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
              bytes[index + 1] == UInt8(ascii: "u")
            else { return nil }
            index += 2
            guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let scalar = Unicode.Scalar(value) else { return nil }
          out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default: return nil
        }
      }
      return nil
    }
  }
}
