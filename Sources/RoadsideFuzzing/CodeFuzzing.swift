import Crypto
public import RoadsideCredentials
public import RoadsideDomain

/// The fixed world the e-licence code parser is fuzzed in: one issuer key ring, one licence,
/// one phone and one instant, all derived from constants so that every run, and the seed
/// corpus in `Fuzz/corpus/`, agree.
///
/// `check(_:)` is the property the fuzzer drives: for any input, verification returns
/// (never traps), and it accepts only the codes this world genuinely produced — byte for byte.
/// Any other accepted text would be a forgery or a malleable encoding, and traps on purpose
/// so libFuzzer keeps the input as a crash.
public struct CodeFuzzing: Sendable {
  public static let now = Timestamp(secondsSinceEpoch: 1_795_140_000)  // 2026-11-20T10:00+08:00
  public static let nonce = "7f3a9c"

  public let keys: [IssuerKey]
  /// The genuine codes: full disclosure, a car-rental subset, a challenged one.
  public let genuine: [String]
  /// Damaged codes that exercise the failure paths.
  public let damaged: [String]

  public init() {
    let issuer = try! Curve25519.Signing.PrivateKey(
      rawRepresentation: [UInt8](repeating: 0x42, count: 32))
    let retired = try! Curve25519.Signing.PrivateKey(
      rawRepresentation: [UInt8](repeating: 0x41, count: 32))
    let phone = try! Curve25519.Signing.PrivateKey(
      rawRepresentation: [UInt8](repeating: 0x17, count: 32))
    let day: Int64 = 86_400
    keys = [
      IssuerKey(
        kid: "FZ-01", publicKey: [UInt8](retired.publicKey.rawRepresentation),
        validFrom: CodeFuzzing.now.adding(seconds: -400 * day),
        validUntil: CodeFuzzing.now.adding(seconds: -30 * day), state: .retired),
      IssuerKey(
        kid: "FZ-02", publicKey: [UInt8](issuer.publicKey.rawRepresentation),
        validFrom: CodeFuzzing.now.adding(seconds: -30 * day),
        validUntil: CodeFuzzing.now.adding(seconds: 1000 * day), state: .active),
    ]
    let licence = Licence(
      number: try! CitizenID("110114197811271869"), fileNumber: try! FileNumber("110000000001"),
      name: "魏英", gender: .female, birthDate: LocalDate(year: 1978, month: 11, day: 27)!,
      address: "北京市昌平区复兴路194号3号楼2单元2546", photo: "photos/110114197811271869.jpg",
      firstIssued: LocalDate(year: 2006, month: 9, day: 30)!, classes: [.c2],
      validity: Validity(term: .longTerm, from: LocalDate(year: 2022, month: 9, day: 30)!),
      authority: .beijing, status: .normal, epoch: 3)
    var counter: UInt8 = 0
    let bytes = { () -> [UInt8] in
      counter &+= 1
      return [UInt8](repeating: counter, count: 12)
    }
    let credential = try! CredentialIssuer.issue(
      licence: licence, epoch: 3, devicePublicKey: [UInt8](phone.publicKey.rawRepresentation),
      kid: "FZ-02", issuerKey: issuer, issuedAt: CodeFuzzing.now.adding(seconds: -day),
      expires: CodeFuzzing.now.adding(seconds: 365 * day), salt: bytes)
    let present = { (claims: [ClaimName], nonce: String?) in
      try! CredentialPresenter.present(
        credential, disclose: claims, deviceKey: phone, at: CodeFuzzing.now,
        presentationID: bytes(), nonce: nonce)
    }
    let full = present(ClaimName.allCases, nil)
    genuine = [
      full, present([.classes, .validityTerm, .validFrom, .validUntil], nil),
      present([.number, .classes], CodeFuzzing.nonce),
    ]
    damaged = [
      String(full.dropLast(40)), full + "~", "EL2." + full.dropFirst(4), "EL1.", "EL1.~~.",
      full.split(separator: "~", omittingEmptySubsequences: false).joined(separator: "~~"),
    ]
  }

  /// Verifies `input`, once without a challenge and once with the world's, and traps when an
  /// outcome breaks the property above.
  public func check(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    for nonce in [nil, CodeFuzzing.nonce] {
      var replays = MemoryReplayGuard()
      let result = ELicence.verify(
        text, keys: keys, now: CodeFuzzing.now, expectedNonce: nonce, replays: &replays)
      if case .success(let presented) = result {
        guard genuine.contains(text), text.utf8.elementsEqual(input) else {
          fatalError("accepted a code this world never produced: \(text)")
        }
        precondition(presented.kid == "FZ-02" && (nonce == nil || presented.nonce == nonce))
      }
      // The verdict step must cope with whatever the parser concluded.
      _ = Verdict.decide(
        presentation: result, facts: nil, cacheAgeSeconds: 0, vehicle: .c2,
        today: CodeFuzzing.now.chinaDate)
    }
  }
}
