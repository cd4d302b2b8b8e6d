import Crypto
import Foundation
import RoadsideCredentials
import RoadsideDomain
import Testing

@testable import RoadsideCentral

/// The parts of an EL1 code (docs/elicence-format.md), to tamper with one at a time.
struct CodeParts {
  var version = "EL1"
  var header: String
  var claims: String
  var issuerSignature: String
  var disclosures: [String]
  var binding: String
  var deviceSignature: String

  init(_ code: String) throws {
    let dot = try #require(code.firstIndex(of: "."))
    version = String(code[..<dot])
    let pieces = code[code.index(after: dot)...].split(
      separator: "~", omittingEmptySubsequences: false
    )
    .map(String.init)
    let issuer = try #require(pieces.first).split(separator: ".").map(String.init)
    let presentation = try #require(pieces.last).split(separator: ".").map(String.init)
    try #require(issuer.count == 3 && presentation.count == 2)
    (header, claims, issuerSignature) = (issuer[0], issuer[1], issuer[2])
    disclosures = Array(pieces.dropFirst().dropLast())
    (binding, deviceSignature) = (presentation[0], presentation[1])
  }

  var text: String {
    "\(version).\(header).\(claims).\(issuerSignature)~"
      + disclosures.map { "\($0)~" }.joined() + "\(binding).\(deviceSignature)"
  }

  static func b64(_ text: String) -> String { Base64URL.encode(Array(text.utf8)) }

  /// `part` with the lowest bit of its first byte flipped.
  static func flipped(_ part: String) throws -> String {
    var bytes = try #require(Base64URL.decode(part))
    bytes[0] ^= 1
    return Base64URL.encode(bytes)
  }
}

/// Every verdict reason of docs/elicence-format.md, reached through the built binary.
extension VerdictCLITests {
  /// The issuer key of the home's central store, to sign e-licences central would have issued
  /// at another time (before a rule changed, or before the licence's data changed).
  func issuer(_ home: URL) throws -> (kid: String, key: Curve25519.Signing.PrivateKey) {
    let central = try CentralService.open(
      path: home.appendingPathComponent("central/central.sqlite").path,
      clock: FixedClock(Timestamp(secondsSinceEpoch: 0)))
    let kid = try #require(try central.issuerKeys().first { $0.state == .active }?.kid)
    let secret = try #require(try central.store.read { try $0.issuerPrivateKey(kid) })
    return (kid, try Curve25519.Signing.PrivateKey(rawRepresentation: secret))
  }

  func licence(_ home: URL, _ number: String) throws -> Licence {
    let central = try CentralService.open(
      path: home.appendingPathComponent("central/central.sqlite").path,
      clock: FixedClock(Timestamp(secondsSinceEpoch: 0)))
    return try #require(try central.store.read { try $0.licence(try CitizenID(number)) })
  }

  /// A code for `licence` signed by the home's issuer key and a fresh phone key, displayed at
  /// `shownAt`.
  func craftedCode(
    _ home: URL, _ licence: Licence, epoch: Int? = nil, issuedAt: String, expires: String,
    shownAt: String
  ) throws -> String {
    let (kid, key) = try issuer(home)
    let phone = Curve25519.Signing.PrivateKey()
    let credential = try CredentialIssuer.issue(
      licence: licence, epoch: epoch ?? licence.epoch,
      devicePublicKey: [UInt8](phone.publicKey.rawRepresentation), kid: kid, issuerKey: key,
      issuedAt: try #require(Timestamp(iso: issuedAt)),
      expires: try #require(Timestamp(iso: expires)),
      salt: { (0..<12).map { _ in UInt8.random(in: 0...255) } })
    return try CredentialPresenter.present(
      credential, disclose: ClaimName.allCases, deviceKey: phone,
      at: try #require(Timestamp(iso: shownAt)),
      presentationID: (0..<12).map { _ in UInt8.random(in: 0...255) }, nonce: nil)
  }

  func expect(
    _ run: Run, status: Int32, reasons expected: [String],
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    #expect(run.status == status, "\(run.stdout)\(run.stderr)", sourceLocation: sourceLocation)
    #expect(try reasons(run) == expected, sourceLocation: sourceLocation)
  }

  @Test func tamperedCodesAreRefusedWithTheirReason() throws {
    let t0 = "2026-11-23T10:00:00+08:00"
    let (home, licence) = try world(t0)
    let shown = "2026-11-23T10:01:00+08:00"
    let at = "2026-11-23T10:01:01+08:00"
    let good = try CodeParts(try code(home, licence, shown))

    var version = good
    version.version = "EL2"
    try expect(try verify(home, version.text, at), status: 65, reasons: ["unsupported_version"])

    for alg in ["none", "ES256", "HS256"] {
      var substituted = good
      substituted.header = CodeParts.b64(#"{"alg":"\#(alg)","kid":"BJ-2026-01"}"#)
      try expect(
        try verify(home, substituted.text, at), status: 1, reasons: ["algorithm_not_allowed"])
    }
    var extra = good
    extra.header = CodeParts.b64(#"{"alg":"EdDSA","kid":"BJ-2026-01","jku":"http://x"}"#)
    try expect(try verify(home, extra.text, at), status: 1, reasons: ["unsupported_header"])

    for kid in ["BJ-1999-99", "../../keys", "x'; DROP TABLE issuer_keys; --"] {
      var unknown = good
      unknown.header = CodeParts.b64(#"{"alg":"EdDSA","kid":"\#(kid)"}"#)
      // Key ids outside the allowed alphabet are unknown without any lookup.
      try expect(try verify(home, unknown.text, at), status: 1, reasons: ["unknown_key"])
    }

    var forged = good
    forged.issuerSignature = try CodeParts.flipped(good.issuerSignature)
    try expect(try verify(home, forged.text, at), status: 1, reasons: ["bad_issuer_signature"])

    var smuggled = good
    smuggled.disclosures[0] = CodeParts.b64(#"["AAAAAAAAAAAAAAAA","nm","张三"]"#)
    try expect(try verify(home, smuggled.text, at), status: 1, reasons: ["bad_disclosure"])

    var notThePhone = good
    notThePhone.deviceSignature = try CodeParts.flipped(good.deviceSignature)
    try expect(try verify(home, notThePhone.text, at), status: 1, reasons: ["bad_device_signature"])

    // The same phone's signature over a code with fewer disclosures: a different credential.
    let fewer = try CodeParts(
      try roadside([
        "holder", "show", licence, "--disclose", "no,cl,vt,vf,vu", "--home", home.path, "--now",
        shown,
      ]).stdout.split(separator: "\n").last.map(String.init) ?? "")
    var grafted = good
    (grafted.binding, grafted.deviceSignature) = (fewer.binding, fewer.deviceSignature)
    try expect(try verify(home, grafted.text, at), status: 1, reasons: ["wrong_credential"])

    // One holder's credential with another holder's presentation.
    let someoneElse = try #require(
      try FileManager.default.contentsOfDirectory(
        atPath: home.appendingPathComponent("holders").path
      ).map { String($0.dropLast(".json".count)) }.sorted().last {
        $0 != licence
          && (try? String(
            contentsOf: home.appendingPathComponent("holders/\($0).json"), encoding: .utf8))?
            .contains("issuerPart") == true
      })
    let theirs = try CodeParts(try code(home, someoneElse, shown))
    var mixed = good
    (mixed.binding, mixed.deviceSignature) = (theirs.binding, theirs.deviceSignature)
    try expect(try verify(home, mixed.text, at), status: 1, reasons: ["bad_device_signature"])

    try expect(try verify(home, good.text + "~", at), status: 65, reasons: ["malformed"])
    try expect(
      try verify(home, String(good.text.dropLast()), at), status: 65, reasons: ["malformed"])

    // Only classes and validity, as a car-rental check would see: no number to look up.
    let rental =
      try roadside([
        "holder", "show", licence, "--disclose", "cl,vt,vf,vu", "--home", home.path, "--now", shown,
      ]).stdout.split(separator: "\n").last.map(String.init) ?? ""
    try expect(try verify(home, rental, at), status: 2, reasons: ["number_not_disclosed"])

    // None of the refused codes used the good code's presentation id up: it still verifies.
    try expect(try verify(home, good.text, at), status: 0, reasons: [])
  }

  @Test func freshnessEdgesAndTheVehicleClass() throws {
    let t0 = "2026-11-23T10:00:00+08:00"
    let (home, licence) = try world(t0)
    let shown = "2026-11-23T10:05:00+08:00"
    // Window 60 s plus leeway 30 s: 90 s after display is the last accepted second.
    try expect(
      try verify(home, try code(home, licence, shown), "2026-11-23T10:06:30+08:00"), status: 0,
      reasons: [])
    try expect(
      try verify(home, try code(home, licence, shown), "2026-11-23T10:06:31+08:00"), status: 1,
      reasons: ["presentation_expired"])
    // Displayed 30 s ahead of the terminal's clock is inside the leeway; 31 s is not.
    try expect(
      try verify(home, try code(home, licence, shown), "2026-11-23T10:04:30+08:00"), status: 0,
      reasons: [])
    try expect(
      try verify(home, try code(home, licence, shown), "2026-11-23T10:04:29+08:00"), status: 1,
      reasons: ["presentation_in_future"])
    // The options move the edges.
    try expect(
      try verify(
        home, try code(home, licence, shown), "2026-11-23T10:07:00+08:00",
        ["--window", "90", "--leeway", "30"]), status: 0, reasons: [])

    let lorry = try verify(
      home, try code(home, licence, shown), "2026-11-23T10:05:01+08:00", ["--vehicle", "A1"])
    try expect(lorry, status: 1, reasons: ["class_not_permitted"])
  }

  @Test func credentialValidityAndTheCacheDecide() throws {
    let t0 = "2026-11-23T10:00:00+08:00"
    let (home, _) = try world(t0)
    let now = "2026-11-23T12:00:00+08:00"
    _ = try roadside(
      [
        "login", "--officer", "010001", "--terminal", "T-BJ-0001", "--home", home.path, "--now",
        now,
      ],
      input: laterLogin)
    let normal = try licence(home, normalLicence)

    // Signed before the key's window opened (the key starts at central init).
    try expect(
      try verify(
        home,
        try craftedCode(
          home, normal, issuedAt: "2026-11-22T10:00:00+08:00", expires: "2027-11-22T10:00:00+08:00",
          shownAt: now), now), status: 1, reasons: ["key_not_valid"])
    try expect(
      try verify(
        home,
        try craftedCode(
          home, normal, issuedAt: "2026-11-23T10:00:00+08:00", expires: "2026-11-23T11:00:00+08:00",
          shownAt: now), now), status: 1, reasons: ["credential_expired"])
    // Issued at 13:00 (nbf), shown at 12:00 on a phone whose clock was set back.
    try expect(
      try verify(
        home,
        try craftedCode(
          home, normal, issuedAt: "2026-11-23T13:00:00+08:00", expires: "2027-11-23T13:00:00+08:00",
          shownAt: now), now), status: 1, reasons: ["credential_not_yet_valid"])

    // E-licences issued before the licence changed: 12 points and withheld; expired validity.
    let full = try licence(home, "110108195601285596")
    try expect(
      try verify(
        home,
        try craftedCode(
          home, full, issuedAt: t0, expires: "2027-11-23T10:00:00+08:00", shownAt: now), now),
      status: 1, reasons: ["status_not_normal", "points_full"])
    let lapsed = try licence(home, "310101197910249005")
    try expect(
      try verify(
        home,
        try craftedCode(
          home, lapsed, issuedAt: t0, expires: "2027-11-23T10:00:00+08:00", shownAt: now), now),
      status: 1, reasons: ["licence_expired"])

    // A licence central created after the terminal's last sync: the terminal cannot tell.
    let newcomer = Licence(
      number: CitizenID.make(
        region: 110_101, birthDate: try #require(LocalDate(iso: "2001-02-03")), sequence: 777),
      fileNumber: normal.fileNumber, name: "新司机", gender: .male,
      birthDate: try #require(LocalDate(iso: "2001-02-03")), address: normal.address,
      photo: normal.photo, firstIssued: try #require(LocalDate(iso: "2026-11-20")),
      classes: [.c1], validity: normal.validity, authority: normal.authority)
    try expect(
      try verify(
        home,
        try craftedCode(
          home, newcomer, issuedAt: t0, expires: "2027-11-23T10:00:00+08:00", shownAt: now), now),
      status: 2, reasons: ["not_in_cache"])
  }

  @Test func aClassChangeTheTerminalHasNotSyncedIsUndetermined() throws {
    let t0 = "2026-11-23T10:00:00+08:00"
    let (home, licence) = try world(t0)
    let renewed = try roadside([
      "central", "licence", "change-class", licence, "--to", "C1,E", "--home", home.path, "--now",
      "2026-11-23T10:01:00+08:00",
    ])
    #expect(renewed.status == 0, "\(renewed.stderr)")
    let apply = try roadside([
      "central", "elicence", "apply", licence, "--home", home.path, "--now",
      "2026-11-23T10:02:00+08:00",
    ])
    #expect(apply.status == 0, "\(apply.stderr)")
    let tuesday = "2026-11-24T10:02:00+08:00"
    _ = try roadside(
      [
        "login", "--officer", "010001", "--terminal", "T-BJ-0001", "--home", home.path, "--now",
        tuesday,
      ],
      input: laterLogin)
    let newCode = try code(home, licence, tuesday)
    // The terminal last synced 24 h 2 min ago: stale by the default budget.
    try expect(try verify(home, newCode, tuesday), status: 2, reasons: ["cache_stale"])
    // With a 48-hour budget the cache is usable, but it has not seen the renewal.
    try expect(
      try verify(home, try code(home, licence, tuesday), tuesday, ["--staleness-budget", "48"]),
      status: 2, reasons: ["cache_behind"])
    _ = try roadside([
      "sync", "--terminal", "T-BJ-0001", "--home", home.path, "--now", tuesday,
    ])
    try expect(try verify(home, try code(home, licence, tuesday), tuesday), status: 0, reasons: [])
  }
}

@Suite(.serialized) struct ELicenceCLITests {
  @Test func applyAtTheCounterReviewAndTheRegister() throws {
    let home = newHome()
    let friday = "2026-11-20T10:00:00+08:00"
    let args = ["--home", home.path, "--now", friday]
    #expect(try roadside(["central", "init"] + args).status == 0)

    let withheld = try roadside(["central", "elicence", "apply", "110108195601285596"] + args)
    #expect(withheld.status == 65)
    #expect(
      withheld.stderr
        == "error: the application is refused: the licence is withheld (U); apply again once it is returned\n"
    )
    let suspended = try roadside(["central", "elicence", "apply", "110102200008258250"] + args)
    #expect(
      suspended.stderr
        == "error: the application is refused: the licence is suspended (D); apply again once the suspension ends\n"
    )
    let typo = try roadside(["central", "elicence", "apply", "110101196005251825"] + args)
    #expect(typo.status == 65)
    #expect(
      typo.stderr
        == "error: the licence number's check character is 5 but GB 11643 gives 4 for the first 17 digits; check the number for a typo\n"
    )

    let applied = try roadside(["central", "elicence", "apply", normalLicence] + args)
    #expect(applied.status == 0, "\(applied.stderr)")
    #expect(
      applied.stdout.hasSuffix(
        " for 110114********1869 is under review; it completes at 2026-11-23T10:00:00+08:00\n"))
    let again = try roadside(["central", "elicence", "apply", normalLicence] + args)
    #expect(again.stderr == "error: an application for this licence is already under review\n")
    // The counter binds the holder's phone; during the review it keeps showing the e-licence
    // it holds, which is of the current epoch and still verifies.
    let phone = try roadside(["holder", "show", normalLicence] + args)
    #expect(phone.stdout.split(separator: "\n").last?.hasPrefix("EL1.") == true)
    #expect(
      try roadside(["central", "elicence", "applications", "--licence", normalLicence] + args)
        .stdout.contains("  pending  "))

    // Saturday: nothing is due; Monday 10:00 the reviews complete.
    #expect(
      try roadside([
        "central", "elicence", "review", "--home", home.path, "--now", "2026-11-21T10:00:00+08:00",
      ]).stdout == "No review is due\n")
    let monday = ["--home", home.path, "--now", "2026-11-23T10:00:00+08:00"]
    let review = try roadside(["central", "elicence", "review", "--json"] + monday)
    let completed = try #require(
      try JSONSerialization.jsonObject(with: Data(review.stdout.utf8)) as? [[String: Any]])
    #expect(
      completed.contains {
        $0["licence"] as? String == normalLicence && $0["state"] as? String == "issued"
      })
    #expect(
      try roadside(["central", "elicence", "applications", "--state", "pending"] + monday).stdout
        == "No application\n")

    let register = try roadside(["central", "elicence", "list", normalLicence, "--json"] + monday)
    let entries = try #require(
      try JSONSerialization.jsonObject(with: Data(register.stdout.utf8)) as? [[String: Any]])
    #expect(entries.compactMap { $0["state"] as? String } == ["current", "replaced"])

    // A class change starts a new epoch: everything issued before is superseded.
    _ = try roadside(["central", "licence", "change-class", normalLicence, "--to", "C1"] + monday)
    let after = try roadside(["central", "elicence", "list", normalLicence, "--json"] + monday)
    let states = try #require(
      try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [[String: Any]])
    #expect(states.compactMap { $0["state"] as? String } == ["superseded", "superseded"])

    let badState = try roadside(
      ["central", "elicence", "applications", "--state", "done"] + monday)
    #expect(badState.status == 64)
    #expect(
      badState.stderr.hasPrefix(
        "error: unknown state \"done\"; the states are pending, issued and refused"))
  }
}

@Suite struct BenchCLITests {
  /// The benchmark is not timed here; the test proves it measures what it says: every
  /// presentation is verified, against the cache, and through the terminal's whole check.
  @Test func verifyBenchmarkReportsThreeFiguresWithTheirReferences() throws {
    let run = try roadside([
      "bench", "verify", "--presentations", "40", "--cache", "400", "--json", "--now", now,
    ])
    #expect(run.status == 0, "\(run.stderr)")
    let results = try #require(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
    #expect(
      results.compactMap { $0["name"] as? String } == [
        "verify", "verify + cache", "terminal verify",
      ])
    let details = results.compactMap { $0["detail"] as? String }
    #expect(details.first?.hasPrefix("40 of 40 full presentations verified") == true)
    #expect(details.dropFirst().first?.contains("a cache of 400 licences") == true)
    #expect(details.last?.hasPrefix("40 checks through Terminal.verify") == true)
    for result in results {
      let reference = try #require(result["reference"] as? Double)
      let value = try #require(result["value"] as? Double)
      #expect(reference > 0 && value > 0)
      #expect(abs((result["ratio"] as? Double ?? 0) - value / reference) < 1e-9)
    }
    let lookup = try roadside([
      "bench", "lookup", "--cache", "500", "--rounds", "1", "--json", "--now", now,
    ])
    #expect(lookup.status == 0, "\(lookup.stderr)")
    let lookupResults = try #require(
      try JSONSerialization.jsonObject(with: Data(lookup.stdout.utf8)) as? [[String: Any]])
    #expect(lookupResults.first?["name"] as? String == "lookup")
    #expect(
      (lookupResults.first?["detail"] as? String)?.hasPrefix(
        "100000 of 100000 random licences found in a cache of 500") == true)
    // --licences sizes the cache too, unless --cache says otherwise.
    let sized = try roadside([
      "bench", "lookup", "--licences", "1200", "--rounds", "1", "--json", "--now", now,
    ])
    #expect(sized.status == 0, "\(sized.stderr)")
    #expect(sized.stdout.contains("random licences found in a cache of 1200 "))
    let bad = try roadside(["bench", "verify", "--presentations", "50", "--cache", "10"])
    #expect(bad.status == 64)
    #expect(
      bad.stderr.hasPrefix(
        "error: --presentations must be positive and --cache at least as many"))
  }
}
