import Crypto
import Foundation
import RoadsideCredentials
import RoadsideDomain
import RoadsideFixtures
import Testing

let licences = try! FixtureLoader().load(directory: DefaultFixtures.directory).licences
let issued = Timestamp(iso: "2026-11-01T10:00:00+08:00")!
let now = Timestamp(iso: "2026-11-22T09:30:00+08:00")!
var issuerKey: Curve25519.Signing.PrivateKey {
  try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 11, count: 32))
}
var deviceKey: Curve25519.Signing.PrivateKey {
  try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 22, count: 32))
}
let ring = [
  IssuerKey(
    kid: "BJ-2026-01", publicKey: [UInt8](issuerKey.publicKey.rawRepresentation),
    validFrom: Timestamp(iso: "2026-01-01")!, validUntil: Timestamp(iso: "2027-01-01")!,
    state: .active)
]

/// Deterministic salts and presentation ids.
final class Bytes {
  var random = SeededRandom(seed: 7)
  func next(_ n: Int = 12) -> [UInt8] {
    (0..<n).map { _ in UInt8(truncatingIfNeeded: random.next()) }
  }
}

func credential(
  for licence: Licence, key: Curve25519.Signing.PrivateKey = issuerKey, kid: String = "BJ-2026-01",
  device: Curve25519.Signing.PrivateKey = deviceKey
) throws -> Credential {
  let bytes = Bytes()
  return try CredentialIssuer.issue(
    licence: licence, epoch: licence.epoch,
    devicePublicKey: [UInt8](device.publicKey.rawRepresentation), kid: kid,
    issuerKey: key, issuedAt: issued, expires: Timestamp(iso: "2027-11-01")!, salt: { bytes.next() }
  )
}

func present(
  _ credential: Credential, disclose: [ClaimName] = ClaimName.allCases, at: Timestamp = now,
  nonce: String? = nil,
  device: Curve25519.Signing.PrivateKey = deviceKey, id: [UInt8] = Bytes().next()
) throws -> String {
  try CredentialPresenter.present(
    credential, disclose: disclose, deviceKey: device, at: at, presentationID: id, nonce: nonce)
}

func verify(
  _ code: String, keys: [IssuerKey] = ring, at: Timestamp = now, nonce: String? = nil
) -> Result<PresentedCredential, PresentationFailure> {
  var guardian = MemoryReplayGuard()
  return ELicence.verify(code, keys: keys, now: at, expectedNonce: nonce, replays: &guardian)
}

@Suite struct ELicenceRoundTripTests {
  @Test func everyDefaultLicenceFitsAQRCodeAndVerifies() throws {
    for licence in licences {
      let code = try present(try credential(for: licence))
      #expect(code.utf8.count <= 1_800, "\(licence.number): \(code.utf8.count) bytes")
      #expect(code.utf8.allSatisfy { $0 > 32 && $0 < 127 }, "one line of printable ASCII")
      let presented = try verify(code).get()
      #expect(presented.disclosed[.number] == licence.number.value)
      #expect(presented.disclosed[.classes] == licence.classes.code)
      #expect(presented.disclosed[.address] == licence.address)
      #expect(presented.claims.ep == licence.epoch)
    }
  }

  @Test func aCarRentalSeesOnlyClassesAndValidity() throws {
    let code = try present(
      try credential(for: licences[0]), disclose: [.classes, .validFrom, .validUntil])
    let presented = try verify(code).get()
    #expect(Set(presented.disclosed.keys) == [.classes, .validFrom, .validUntil])
    #expect(!code.contains(licences[0].number.value))
  }

  @Test func nonceAndFreshnessBoundaries() throws {
    let cred = try credential(for: licences[0])
    #expect(try verify(try present(cred, nonce: "a1b2"), nonce: "a1b2").get().nonce == "a1b2")
    #expect(verify(try present(cred, nonce: "a1b2"), nonce: "zzzz") == .failure(.nonceMismatch))
    #expect(verify(try present(cred), nonce: "a1b2") == .failure(.nonceMismatch))
    // Window 60 s + leeway 30 s behind; leeway 30 s ahead; exactly at the edges is accepted.
    #expect((try? verify(try present(cred, at: now.adding(seconds: -90))).get()) != nil)
    #expect(
      verify(try present(cred, at: now.adding(seconds: -91))) == .failure(.presentationExpired))
    #expect((try? verify(try present(cred, at: now.adding(seconds: 30))).get()) != nil)
    #expect(
      verify(try present(cred, at: now.adding(seconds: 31))) == .failure(.presentationInFuture))
  }

  @Test func aReplayIsCaughtWithinItsWindow() throws {
    let code = try present(try credential(for: licences[0]))
    var guardian = MemoryReplayGuard()
    #expect(
      (try? ELicence.verify(code, keys: ring, now: now, expectedNonce: nil, replays: &guardian)
        .get()) != nil)
    #expect(
      ELicence.verify(
        code, keys: ring, now: now.adding(seconds: 5), expectedNonce: nil, replays: &guardian)
        == .failure(.replay))
  }

  @Test func keyLifecycle() throws {
    let code = try present(try credential(for: licences[0]))
    let key = ring[0]
    let retired = IssuerKey(
      kid: key.kid, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: issued,
      state: .retired)
    #expect(
      (try? verify(code, keys: [retired]).get()) != nil,
      "a retired key verifies what it signed while valid")
    let revoked = IssuerKey(
      kid: key.kid, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: key.validUntil,
      state: .revoked)
    #expect(verify(code, keys: [revoked]) == .failure(.keyRevoked))
    let later = IssuerKey(
      kid: key.kid, publicKey: key.publicKey, validFrom: issued.adding(seconds: 1),
      validUntil: key.validUntil, state: .active)
    #expect(verify(code, keys: [later]) == .failure(.keyNotValid))
    #expect(verify(code, keys: []) == .failure(.unknownKey))
  }

  @Test func credentialValidity() throws {
    let code = try present(try credential(for: licences[0]), at: Timestamp(iso: "2027-11-02")!)
    #expect(verify(code, at: Timestamp(iso: "2027-11-02")!) == .failure(.credentialExpired))
  }
}

@Suite struct ELicenceNegativeTests {
  let code = try! present(try! credential(for: licences[0]))

  func replacingHeader(_ json: String) -> String {
    let afterPrefix = code.dropFirst(4)
    let header = afterPrefix.prefix { $0 != "." }
    let b64 = Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
      .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    return "EL1." + b64 + afterPrefix.dropFirst(header.count)
  }

  @Test(arguments: [
    (#"{"alg":"none","kid":"BJ-2026-01"}"#, PresentationFailure.algorithmNotAllowed),
    (#"{"alg":"ES256","kid":"BJ-2026-01"}"#, .algorithmNotAllowed),
    (#"{"alg":"HS256","kid":"BJ-2026-01"}"#, .algorithmNotAllowed),
    (#"{"alg":"EdDSA","kid":"BJ-2026-01","crit":["x"]}"#, .unsupportedHeader),
    (#"{"alg":"EdDSA","kid":"BJ-2026-01","jwk":{}}"#, .unsupportedHeader),
    (#"{"alg":"EdDSA"}"#, .unsupportedHeader),
    (#"{"alg":"EdDSA","kid":"../../etc/passwd"}"#, .unknownKey),
    (#"{"alg":"EdDSA","kid":"x'; DROP TABLE keys; --"}"#, .unknownKey),
    (#"{"alg":"EdDSA","kid":"BJ-2099-01"}"#, .unknownKey),
  ])
  func headerSubstitutions(_ header: String, _ expected: PresentationFailure) {
    #expect(verify(replacingHeader(header)) == .failure(expected))
  }

  /// A header padded with thousands of members is refused as unsupported (the flat reader
  /// stops at `FlatObject.maximumMembers`).
  @Test func aHeaderWithManyMembersIsUnsupported() {
    let extra = (0..<5_000).map { #""x\#($0)":"y""# }.joined(separator: ",")
    let header = #"{"alg":"EdDSA","kid":"BJ-2026-01","# + extra + "}"
    #expect(verify(replacingHeader(header)) == .failure(.unsupportedHeader))
  }

  @Test func otherVersionsAndTrailingData() {
    #expect(verify("EL2." + code.dropFirst(4)) == .failure(.unsupportedVersion))
    #expect(verify("XX1." + code.dropFirst(4)) == .failure(.malformed))
    for trailer in ["~", ".", "A", "~x", " ", "\n", "=="] {
      #expect((try? verify(code + trailer).get()) == nil, "trailer \(trailer.debugDescription)")
    }
  }

  @Test func noTruncationVerifies() {
    let bytes = Array(code.utf8)
    for length in 0..<bytes.count {
      let cut = String(decoding: bytes.prefix(length), as: UTF8.self)
      #expect((try? verify(cut).get()) == nil, "truncated to \(length) bytes")
    }
  }

  @Test func noFlippedBitVerifies() {
    // One bit of every character: the result must never be a valid presentation.
    let bytes = Array(code.utf8)
    for index in bytes.indices {
      for bit in [0, 1, 5] {
        var copy = bytes
        copy[index] ^= UInt8(1 << bit)
        #expect(
          (try? verify(String(decoding: copy, as: UTF8.self)).get()) == nil,
          "byte \(index) bit \(bit)")
      }
    }
  }

  @Test func oneHoldersCredentialWithAnothersPresentation() throws {
    let other = try Curve25519.Signing.PrivateKey(
      rawRepresentation: [UInt8](repeating: 33, count: 32))
    let stolen = try present(try credential(for: licences[0]), device: other)
    #expect(verify(stolen) == .failure(.badDeviceSignature))
    // A presentation signed for one credential, grafted onto another's issuer part.
    let mine = try present(try credential(for: licences[1]))
    let graft = String(code.prefix { $0 != "~" }) + mine.drop { $0 != "~" }
    #expect((try? verify(graft).get()) == nil)
  }

  @Test func aDisclosureNotInTheCredential() throws {
    let other = try credential(for: licences[1])
    let foreign = try #require(other.disclosures[ClaimName.name.rawValue])
    let parts = code.split(separator: "~", omittingEmptySubsequences: false)
    let forged = ([String(parts[0]), foreign] + parts.dropFirst().map(String.init)).joined(
      separator: "~")
    #expect((try? verify(forged).get()) == nil)
  }
}

@Suite struct WycheproofTests {
  static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
      "shared/testdata/wycheproof/ed25519_test.json")

  @Test(
    .enabled(
      if: FileManager.default.fileExists(atPath: path.path),
      "../shared/testdata is not on this machine"))
  func all151VectorsGiveTheExpectedResult() throws {
    let document =
      try JSONSerialization.jsonObject(with: Data(contentsOf: Self.path)) as! [String: Any]
    func hex(_ text: String) -> [UInt8] {
      var bytes: [UInt8] = []
      var index = text.startIndex
      while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
      }
      return bytes
    }
    var count = 0
    for group in document["testGroups"] as! [[String: Any]] {
      let key = hex((group["publicKey"] as! [String: Any])["pk"] as! String)
      for test in group["tests"] as! [[String: Any]] {
        count += 1
        let valid = Ed25519.verify(
          publicKey: key, message: hex(test["msg"] as! String),
          signature: hex(test["sig"] as! String))
        #expect(
          valid == (test["result"] as! String == "valid"),
          "tcId \(test["tcId"]!) \(test["comment"]!)")
      }
    }
    #expect(count == 151)
  }
}
