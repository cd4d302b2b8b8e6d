import Foundation
import RoadsideCentral
import RoadsideCentralServer
import RoadsideCredentials
import RoadsideDomain
import RoadsideProtocol
import RoadsideStorage
import RoadsideSync
import RoadsideTerminal
import Testing

/// A terminal user who edits the terminal's file (docs/security.md, adversary 4), against a
/// live central on loopback: forged sessions, a removed lockout, PIN verifiers taken off the
/// terminal. Central re-reads the pushed audit chain and refuses what it does not support.
@Suite struct OfficerAtCentralTests {
  /// Writes a session row by hand, as someone with a shell on the device would.
  func forgeSession(_ world: World, _ terminal: String, officer: String) throws {
    try Connection(path: world.terminalPath(terminal)).execute(
      """
      INSERT INTO session (id, officer, started_at, last_activity_at) VALUES (1, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET officer = excluded.officer
      """, officer, world.clock.now().description, world.clock.now().description)
  }

  @Test func aForgedSessionMakesNothingCentralAccepts() async throws {
    let world = try World()
    try await withLiveServer(world.endpoint) { url in
      let http = HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
      let terminal = try await world.terminal("T-BJ-0001", transport: http)
      _ = try await terminal.push(transport: http)
      let pointsBefore = try world.central().dossier(driver).points.total
      // An officer central never heard of, then a real officer of another unit (西城), then
      // a real officer of this unit (东城) who never logged in here.
      let probes = [
        ("999999", "officer 999999 is not known to central"),
        (
          "010002",
          "officer 010002 is of 北京市公安局公安交通管理局西城交通支队, not of T-BJ-0001's unit 北京市公安局公安交通管理局东城交通支队"
        ),
        (
          "010007",
          "officer 010007 was not logged in on T-BJ-0001 at \(world.clock.now()) according to the audit chain it pushed"
        ),
      ]
      for (officer, reason) in probes {
        try forgeSession(world, "T-BJ-0001", officer: officer)
        let stop = try terminal.recordStop(
          licence: driver, plate: plate, vehicle: .c2, offences: [("0301", 200)],
          place: "长安街", locationCode: nil, note: nil, refusedToSign: false)
        let report = try await terminal.push(transport: http)
        // The decision and the violation-free stop's audit entry: the document is rejected.
        #expect(report.rejected == 1, "\(officer)")
        let conflict = try #require(
          try world.central().conflicts().last { $0.kind == .unknownOfficer }, "\(officer)")
        #expect(conflict.description == reason)
        #expect(conflict.licence == driver.value)
        let number = stop.documents[0].number
        #expect(
          try Connection(path: world.centralPath).fetchOne(
            "SELECT count(*) FROM documents WHERE number = ?", number
          ) { $0.int(0) } == 0, "no decision \(number) for \(officer)")
      }
      #expect(try world.central().dossier(driver).points.total == pointsBefore)
      #expect(try world.central().conflicts().filter { $0.kind == .unknownOfficer }.count == 3)
    }
  }

  @Test func fiveWrongPINsLockTheOfficerOnEveryTerminalAndARemovedLockoutIsSeen() async throws {
    let world = try World()
    try await withLiveServer(world.endpoint) { url in
      let http = HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
      let terminal = try await world.terminal("T-BJ-0001", transport: http)
      for _ in 1...5 {
        #expect(throws: TerminalError.self) {
          try terminal.login(officer: "010007", pin: "999999")
        }
      }
      _ = try await terminal.push(transport: http)
      let locked = try #require(try world.central().officers().first { $0.id == "010007" })
      #expect(locked.lockedOn == "T-BJ-0001" && locked.lockedAt == world.clock.now())

      // Another terminal of the unit learns of the lock (a second terminal id for 东城).
      _ = try world.central().addTerminal(
        id: "T-BJ-0101", unit: "北京市公安局公安交通管理局东城交通支队", reason: "test")
      let other = try await world.terminal("T-BJ-0101", transport: http, seed: 2)
      #expect(
        throws: TerminalError(
          .notAuthorised,
          "officer 010007 is locked at central since \(locked.lockedAt!) after 5 wrong PINs in a row (the last on T-BJ-0001); central must unlock them ('roadside central officer unlock 010007') and the terminal sync"
        )
      ) { try other.signIn("010007") }

      // The user of T-BJ-0001 deletes the lockout row and logs in; the record that follows
      // is refused, and the login is reported.
      world.clock.advance(seconds: 60)
      try Connection(path: world.terminalPath("T-BJ-0001")).execute("DELETE FROM lockouts")
      try terminal.signIn("010007")
      try terminal.recordViolation(licence: driver, plate: plate, offenceCode: "0111", place: "a")
      let report = try await terminal.push(transport: http)
      #expect(report.rejected == 2)  // the PIN change and the violation
      let kinds = try world.central().conflicts().map(\.kind)
      #expect(kinds.contains(.lockoutBypassed) && kinds.contains(.unknownOfficer))
      let bypass = try #require(
        try world.central().conflicts().first { $0.kind == .lockoutBypassed })
      #expect(
        bypass.description
          == "officer 010007 logged in on T-BJ-0001 at \(world.clock.now()), though its own audit chain showed 5 wrong PINs in a row there and central has not unlocked them: the lockout was removed from the terminal's file"
      )

      // Once central unlocks them, both terminals let the officer in again.
      _ = try world.central().unlockOfficer("010007", reason: "identity verified")
      _ = try await other.pull(transport: http)
      try other.signIn("010007")
      #expect(try other.currentOfficer() == "010007")
    }
  }

  /// A login entry written into the chain by hand: its hash is right (the chain has no key),
  /// but it cannot prove the PIN.
  @Test func aForgedLoginEntryIsNoLogin() async throws {
    let world = try World()
    let local = InProcessTransport(endpoint: world.endpoint)
    let terminal = try await world.terminal("T-BJ-0001", transport: local)
    _ = try await terminal.push(transport: local)
    let db = try Connection(path: world.terminalPath("T-BJ-0001"))
    let last = try #require(try terminal.auditLog().last)
    let forged = try AuditEntry.next(
      after: last, terminal: "T-BJ-0001", at: world.clock.now(), officer: "010007",
      action: "login", subject: "010007", result: "ok",
      proof: { _ in String(repeating: "0", count: 64) + "@-" })
    try db.execute(
      """
      INSERT INTO audit_log (seq, at, officer, action, subject, result, previous_hash, hash, proof)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      """, forged.seq, forged.at.description, forged.officer, forged.action, forged.subject,
      forged.result, forged.previousHash, forged.hash, forged.proof)
    let payload = String(decoding: try JSONEncoder().encode(forged), as: UTF8.self)
    try db.execute(
      """
      INSERT INTO outbox (seq, record_id, kind, created_at, payload)
      VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM outbox), 'forged-login', 'audit', ?, ?)
      """, forged.at.description, payload)
    try forgeSession(world, "T-BJ-0001", officer: "010007")
    try terminal.recordViolation(licence: driver, plate: plate, offenceCode: "0111", place: "a")
    let report = try await terminal.push(transport: local)
    #expect(report.rejected == 1 && report.conflicts == 1)
    let descriptions = try world.central().conflicts().filter { $0.kind == .unknownOfficer }
      .map(\.description)
    #expect(
      descriptions.contains(
        "the login of officer 010007 on T-BJ-0001 at \(world.clock.now()) (audit entry \(forged.seq)) carries no valid proof of the officer's PIN: it was not made by a login"
      ))
    #expect(AuditChain.verify(try terminal.auditLog()) == .intact(entries: Int(forged.seq) + 1))
  }

  /// Wrong PINs spread over two terminals lock the officer at central, but the terminal that
  /// saw only one of them has removed nothing: its login and records stand.
  @Test func aLockAtCentralIsNoBypassOnATerminalThatSawFewWrongPINs() async throws {
    let world = try World()
    _ = try world.central().addTerminal(
      id: "T-BJ-0101", unit: "北京市公安局公安交通管理局东城交通支队", reason: "test")
    let local = InProcessTransport(endpoint: world.endpoint)
    let one = try await world.terminal("T-BJ-0001", transport: local)
    let two = try await world.terminal("T-BJ-0101", transport: local, seed: 2)
    for _ in 1...4 {
      #expect(throws: TerminalError.self) { try two.login(officer: "010007", pin: "999999") }
    }
    _ = try await two.push(transport: local)
    #expect(throws: TerminalError.self) { try one.login(officer: "010007", pin: "999999") }
    try one.signIn("010007")
    try one.recordViolation(licence: driver, plate: plate, offenceCode: "0111", place: "a")
    let report = try await one.push(transport: local)
    #expect(report.rejected == 0 && report.conflicts == 0)
    let officer = try #require(try world.central().officers().first { $0.id == "010007" })
    #expect(officer.lockedOn == "T-BJ-0001")
  }

  @Test func pinVerifiersAreBoundToTheirTerminalAndTheChosenPINReachesTheUnit() async throws {
    let world = try World()
    _ = try world.central().addTerminal(
      id: "T-BJ-0101", unit: "北京市公安局公安交通管理局东城交通支队", reason: "test")
    try await withLiveServer(world.endpoint) { url in
      let http = HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
      let one = try await world.terminal("T-BJ-0001", transport: http)
      // A second terminal of the unit, synced, nobody logged in yet.
      let two = try await Terminal.initialise(
        path: world.terminalPath("T-BJ-0101"), terminal: "T-BJ-0101", centralName: "test",
        transport: http, enrolmentCode: try world.enrolmentCode("T-BJ-0101", seed: 2),
        keySeed: [UInt8](repeating: 2, count: 32), clock: world.clock,
        identifiers: SeededIdentifiers(seed: 2))
      _ = try await two.pull(transport: http)
      func verifier(_ id: String, _ officer: String) throws -> String {
        try #require(
          try Connection(path: world.terminalPath(id)).fetchOne(
            "SELECT pin_hash FROM officers WHERE id = ?", officer
          ) { $0.optionalText(0) } ?? nil)
      }
      // Central's own hash never leaves it; each terminal holds a different verifier.
      let central = try #require(try world.central().officers().first { $0.id == "010007" })
      let onOne = try verifier("T-BJ-0001", "010007")
      #expect(onOne.hasPrefix("pbkdf2-sha256-terminal$") && onOne != central.pinHash)
      #expect(try verifier("T-BJ-0101", "010007") != onOne)
      let parsed = try TerminalPINVerifier(encoded: onOne)
      #expect(parsed.matches("010007", terminal: "T-BJ-0001"))
      #expect(!parsed.matches("010007", terminal: "T-BJ-0101"))
      // Copied into the other terminal's file, it checks no PIN there.
      try Connection(path: world.terminalPath("T-BJ-0101")).execute(
        "UPDATE officers SET pin_hash = ? WHERE id = '010007'", onOne)
      #expect(
        throws: TerminalError(
          .notAuthorised,
          "wrong PIN for officer 010007; 4 attempts left before the officer is locked on this terminal"
        )
      ) { try two.login(officer: "010007", pin: "010007") }

      // 010001 chose a PIN on T-BJ-0001 (at 600,000 iterations); T-BJ-0101 learns it.
      #expect(try two.mustChangePIN(officer: "010001"))
      _ = try await one.push(transport: http)
      let chosen = try #require(try world.central().officers().first { $0.id == "010001" })
      #expect(!chosen.pinMustChange)
      #expect(try PINHash(encoded: chosen.pinHash!).iterations == 600_000)
      _ = try await two.pull(transport: http)
      #expect(try !two.mustChangePIN(officer: "010001"))
      try two.login(officer: "010001", pin: chosenPIN("010001"))
      #expect(try two.currentOfficer() == "010001")
    }
  }

  @Test func aWeakPINChangeIsRefusedAtCentral() async throws {
    let world = try World()
    try await withLiveServer(world.endpoint) { url in
      let http = HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
      var terminal = try await world.terminal("T-BJ-0001", transport: http)
      _ = try await terminal.push(transport: http)
      // A terminal whose code was changed to hash a new PIN with 1,000 iterations.
      _ = try world.central().setOfficerPIN(
        "010007", hash: try PINHash(pin: "010007", salt: Array(repeating: 7, count: 16)).encoded,
        reason: "new officer")
      _ = try await terminal.pull(transport: http)
      terminal.pinIterations = 1_000
      try terminal.signIn("010007")
      let report = try await terminal.push(transport: http)
      #expect(report.rejected == 1)
      let officer = try #require(try world.central().officers().first { $0.id == "010007" })
      #expect(officer.pinMustChange)
      let reasons = try Connection(path: world.centralPath).fetchAll(
        "SELECT reason FROM records WHERE outcome = 'rejected'"
      ) { $0.text(0) }
      #expect(
        reasons.contains(
          "the new PIN of officer 010007 is hashed with 1000 PBKDF2 iterations; central requires at least 600000"
        ))
    }
  }
}
