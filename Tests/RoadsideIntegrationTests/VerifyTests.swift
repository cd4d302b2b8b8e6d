import Crypto
import Foundation
import RoadsideCentral
import RoadsideCentralServer
import RoadsideCredentials
import RoadsideDomain
import RoadsideFixtures
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
    #expect(try terminal.store.issuerKeys().map(\.state) == [.active])
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
    try terminal.signIn("010001")
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
        .notPermitted,
        "an e-licence cannot be issued: the licence is suspended (D); apply again once the suspension ends"
      )
    ) {
      try w.issue()
    }
  }
}

@Suite struct ApplicationTests {
  @Test func aReviewWaitsWhileTheActiveKeyIsOutsideItsWindow() throws {
    let w = try ELicenceWorld()
    let central = try w.world.central()
    _ = try central.rotateIssuerKey(
      kid: "BJ-SHORT", seed: [UInt8](repeating: 7, count: 32), validDays: 1, reason: "test")
    let application = try central.applyForELicence(
      driver, devicePublicKey: [UInt8](w.phone.publicKey.rawRepresentation))
    var random = SeededRandom(seed: 1)
    let salt = { (0..<12).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
    // The review is due on Tuesday, but BJ-SHORT may sign only until Monday: it waits.
    w.world.clock.set(application.readyAt)
    #expect(try central.completeDueReviews(salt: salt).isEmpty)
    #expect(try central.applications(driver).first?.state == .pending)
    _ = try central.rotateIssuerKey(
      kid: "BJ-NEXT", seed: [UInt8](repeating: 8, count: 32), validDays: 30, reason: "test")
    #expect(try central.completeDueReviews(salt: salt).map(\.state) == [.issued])
  }

  @Test func anApplicationIsIssuedOneWorkingDayLaterAndNotBefore() throws {
    let w = try ELicenceWorld()
    let central = try w.world.central()
    // 2026-11-22 is a Sunday: the review completes at the start of Tuesday.
    let application = try central.applyForELicence(
      driver, devicePublicKey: [UInt8](w.phone.publicKey.rawRepresentation))
    #expect(application.readyAt == Timestamp(iso: "2026-11-24T00:00:00+08:00"))
    #expect(throws: CentralError.self) {
      try central.applyForELicence(
        driver, devicePublicKey: [UInt8](w.phone.publicKey.rawRepresentation))
    }
    var random = SeededRandom(seed: 1)
    let salt = { (0..<12).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
    w.world.clock.set(Timestamp(iso: "2026-11-23T23:59:59+08:00")!)
    #expect(try central.completeDueReviews(salt: salt).isEmpty)
    w.world.clock.set(Timestamp(iso: "2026-11-24T00:00:00+08:00")!)
    #expect(try central.completeDueReviews(salt: salt).map(\.state) == [.issued])
    #expect(
      try central.issuedELicence(
        driver, devicePublicKey: [UInt8](w.phone.publicKey.rawRepresentation)) != nil)
  }

  @Test func aLicenceSuspendedDuringTheReviewIsRefused() throws {
    let w = try ELicenceWorld()
    let central = try w.world.central()
    _ = try central.applyForELicence(
      driver, devicePublicKey: [UInt8](w.phone.publicKey.rawRepresentation))
    _ = try central.suspend(driver, until: nil, reason: "test")
    w.world.clock.advance(seconds: 3 * 86_400)
    let completed = try central.completeDueReviews(salt: { [UInt8](repeating: 1, count: 12) })
    #expect(completed.map(\.state) == [.refused])
    #expect(
      completed.first?.reason
        == "an e-licence cannot be issued: the licence is suspended (D); apply again once the suspension ends"
    )
  }

  @Test func applicationsAreRefusedAtOnceForWithheldOrPhotolessLicences() throws {
    let w = try ELicenceWorld()
    let central = try w.world.central()
    let photoless = try #require(
      defaultSet.licences.first { $0.photo == nil && $0.status.codes == [.normal] })
    #expect(
      throws: DomainError(
        .notPermitted,
        "the application is refused: no photo is on file; the holder must have one taken at a vehicle administration office"
      )
    ) {
      try central.applyForELicence(
        photoless.number, devicePublicKey: [UInt8](repeating: 1, count: 32))
    }
    _ = try central.withhold(driver, reason: "test")
    #expect(
      throws: DomainError(
        .notPermitted,
        "the application is refused: the licence is withheld (U); apply again once it is returned")
    ) {
      try central.applyForELicence(driver, devicePublicKey: [UInt8](repeating: 1, count: 32))
    }
  }
}
