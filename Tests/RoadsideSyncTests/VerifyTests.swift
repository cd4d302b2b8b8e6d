import Crypto
import Foundation
import RoadsideCentral
import RoadsideCentralServer
import RoadsideCredentials
import RoadsideDomain
import RoadsideProtocol
import RoadsideTerminal
import Testing

/// A world whose central has an issuer key, a terminal synced and logged in, and a phone.
struct ELicenceWorld {
  let world: World
  let transport: InProcessTransport
  let phone = try! Curve25519.Signing.PrivateKey(
    rawRepresentation: [UInt8](repeating: 44, count: 32))

  init() throws {
    let clock = TestClock(start)
    let home = scratch("elicence")
    let path = home.appendingPathComponent("central.sqlite").path
    _ = try CentralService.initialise(
      path: path, fixtures: defaultSet, source: "default", clock: clock,
      issuerKeySeed: [UInt8](repeating: 55, count: 32))
    world = try World(home: home, clock: clock, centralPath: path)
    transport = InProcessTransport(endpoint: world.endpoint)
  }

  func issue(_ number: LicenceNumber = driver) throws -> Credential {
    var random = SeededRandom(seed: 9)
    return try world.central().issueCredential(
      number, devicePublicKey: [UInt8](phone.publicKey.rawRepresentation),
      salt: { (0..<12).map { _ in UInt8(truncatingIfNeeded: random.next()) } })
  }

  func code(_ credential: Credential, id: UInt8 = 1, nonce: String? = nil) throws -> String {
    try CredentialPresenter.present(
      credential, disclose: ClaimName.allCases, deviceKey: phone, at: world.clock.now(),
      presentationID: [UInt8](repeating: id, count: 12), nonce: nonce)
  }
}

@Suite struct VerifyTests {
  @Test func aGenuineFreshCodeIsValidAndAudited() async throws {
    let w = try ELicenceWorld()
    let terminal = try await w.world.terminal("T-BJ-0001", transport: w.transport)
    #expect(try terminal.store.issuerKeys().map(\.state) == ["active"])
    let report = try terminal.verify(try w.code(try w.issue()), vehicle: .c2, nonce: nil)
    #expect(report.verdict.outcome == .valid, "\(report.verdict)")
    #expect(report.licence == driver.value)
    #expect(try terminal.auditLog().last?.action == "verify")
    #expect(try terminal.auditLog().last?.result == "VALID ")
  }

  @Test func theVerdictFollowsTheCache() async throws {
    let w = try ELicenceWorld()
    let terminal = try await w.world.terminal("T-BJ-0001", transport: w.transport)
    let credential = try w.issue()
    #expect(
      try terminal.verify(try w.code(credential, id: 1), vehicle: .b2, nonce: nil).verdict.reasons
        .map(\.code) == ["class_not_permitted"])
    _ = try w.world.central().suspend(driver, until: nil, reason: "test")
    _ = try await terminal.pull(transport: w.transport)
    #expect(
      try terminal.verify(try w.code(credential, id: 2), vehicle: .c2, nonce: nil).verdict.reasons
        .map(\.code) == ["status_not_normal"])
    _ = try w.world.central().reinstate(driver, reason: "test")
    _ = try w.world.central().changeClasses(driver, to: [.c2, .e], reason: "test")
    _ = try await terminal.pull(transport: w.transport)
    let superseded = try terminal.verify(try w.code(credential, id: 3), vehicle: .c2, nonce: nil)
    #expect(
      superseded.verdict.outcome == .invalid
        && superseded.verdict.reasons.map(\.code) == ["superseded_epoch"])
  }

  @Test func replaysAreCaughtAcrossARestart() async throws {
    let w = try ELicenceWorld()
    let terminal = try await w.world.terminal("T-BJ-0001", transport: w.transport)
    let code = try w.code(try w.issue())
    #expect(try terminal.verify(code, vehicle: nil, nonce: nil).verdict.outcome == .valid)
    let restarted = try Terminal.open(
      path: w.world.terminalPath("T-BJ-0001"), terminal: "T-BJ-0001", clock: w.world.clock,
      identifiers: SeededIdentifiers(seed: 77))
    #expect(
      try restarted.verify(code, vehicle: nil, nonce: nil).verdict.reasons.map(\.code) == ["replay"]
    )
  }

  @Test func aRevokedIssuerKeyVerifiesNothingOnceSynced() async throws {
    let w = try ELicenceWorld()
    let terminal = try await w.world.terminal("T-BJ-0001", transport: w.transport)
    let credential = try w.issue()
    let kid = try #require(try w.world.central().issuerKeys().first?.kid)
    _ = try w.world.central().revokeIssuerKey(kid, reason: "compromised")
    _ = try await terminal.pull(transport: w.transport)
    #expect(
      try terminal.verify(try w.code(credential), vehicle: nil, nonce: nil).verdict.reasons.map(
        \.code) == ["key_revoked"])
  }

  @Test func aStaleCacheIsUndetermined() async throws {
    let w = try ELicenceWorld()
    let terminal = try await w.world.terminal("T-BJ-0001", transport: w.transport)
    let credential = try w.issue()
    w.world.clock.advance(seconds: 25 * 3600)
    try terminal.login(officer: "010001", pin: "010001")
    let report = try terminal.verify(try w.code(credential), vehicle: nil, nonce: nil)
    #expect(
      report.verdict.outcome == .undetermined
        && report.verdict.reasons.map(\.code) == ["cache_stale"])
  }

  @Test func issuanceIsRefusedForSuspendedLicencesAndWithoutAKey() throws {
    let w = try ELicenceWorld()
    _ = try w.world.central().suspend(driver, until: nil, reason: "test")
    #expect(
      throws: DomainError(
        .notPermitted, "an e-licence cannot be issued: the licence is suspended (D)")
    ) {
      try w.issue()
    }
  }
}
