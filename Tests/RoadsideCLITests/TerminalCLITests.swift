import Foundation
import RoadsideSpawn
import Testing

/// Runs `roadside` with `input` on standard input.
func roadside(_ arguments: [String], input: String) throws -> Run {
  let process = ChildProcess()
  process.executableURL = roadsideBinary
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment.filter {
    !$0.key.hasPrefix("ROADSIDE_")
  }
  let stdin = Pipe()
  let out = Pipe()
  let err = Pipe()
  process.standardInput = stdin
  process.standardOutput = out
  process.standardError = err
  try process.run()
  stdin.fileHandleForWriting.write(Data(input.utf8))
  try stdin.fileHandleForWriting.close()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  let errData = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return Run(
    status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData, as: UTF8.self))
}

@Suite(.serialized) struct TerminalCLITests {
  /// A home with a central store and terminal T-BJ-0001 on it (in-process, `local`).
  func homeWithTerminal() throws -> URL {
    let home = try initialisedHome()
    let run = try roadside([
      "terminal", "init", "--id", "T-BJ-0001", "--central", "local", "--home", home.path, "--now",
      now,
    ])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(
      run.stdout.hasPrefix("Terminal T-BJ-0001 (北京市公安局公安交通管理局东城交通支队) registered with local\n"))
    return home
  }

  @Test func loginLookupRecordSyncAndStatus() throws {
    let home = try homeWithTerminal()
    let args = ["--terminal", "T-BJ-0001", "--home", home.path, "--now", now]
    // Only the PIN: the initial one must be replaced, and no new PIN followed it.
    let bare = try roadside(["login", "--officer", "010001"] + args, input: "010001\n")
    #expect(bare.status == 64)
    #expect(
      bare.stderr
        == "error: officer 010001 must choose a new PIN at first login; give it twice on the next lines of standard input, or run from a terminal to be asked\n"
    )
    let weak = try roadside(
      ["login", "--officer", "010001"] + args, input: "010001\n123456\n123456\n")
    #expect(weak.status == 65)
    #expect(
      weak.stderr
        == "error: the new PIN must not be six digits counting up or down; choose another\n")
    let typo = try roadside(
      ["login", "--officer", "010001"] + args, input: "010001\n343334\n343335\n")
    #expect(typo.status == 65)
    #expect(
      typo.stderr == "error: the two new PINs differ; log in again and type the same PIN twice\n")
    let login = try roadside(["login", "--officer", "010001"] + args, input: firstLogin)
    #expect(login.status == 0, "\(login.stderr)")
    #expect(
      login.stdout
        == "Officer 010001 chose a new PIN and logged in on T-BJ-0001; central and the unit's other terminals learn it at the next sync; the session ends after 30 minutes without activity\n"
    )
    // The initial PIN no longer works here; the chosen one does.
    #expect(try roadside(["login", "--officer", "010001"] + args, input: "010001\n").status == 77)
    #expect(try roadside(["login", "--officer", "010001"] + args, input: laterLogin).status == 0)
    let lookup = try roadside(["lookup", normalLicence] + args)
    #expect(lookup.status == 0)
    #expect(lookup.stdout.hasPrefix("Licence \(normalLicence)  魏英 (女, born 1978-11-27)\n"))
    #expect(
      lookup.stdout.contains("  Cache         last sync 2026-11-22T09:30:00+08:00, 0 s old\n"))
    let record = try roadside(
      [
        "record", "--licence", normalLicence, "--plate", "京AD00000", "--vehicle", "C2", "--offence",
        "0301", "--place", "长安街",
      ] + args)
    #expect(record.status == 0, "\(record.stderr)")
    #expect(record.stdout.hasPrefix("Decision 1100002026"))
    let status = try roadside(["status", "--json"] + args)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
    // Audit entries: each of the 4 first-login attempts asked for a new PIN, the fourth
    // then logged in and changed it; the old PIN refused, the chosen one accepted; the
    // lookup and the decision. Records: the PIN change, the check, the decision.
    #expect(object["outboxDepth"] as? Int == 13)
    #expect(object["officer"] as? String == "010001")
    let sync = try roadside(["sync"] + args)
    #expect(sync.status == 0, "\(sync.stderr)")
    #expect(
      sync.stdout.hasPrefix(
        "Pushed 13 records: 13 accepted, 0 duplicate, 0 rejected, 0 conflict\n"))
    let audit = try roadside(["central", "audit", "--terminal", "T-BJ-0001", "--home", home.path])
    #expect(
      audit.stdout == "Terminal T-BJ-0001: 10 audit entries at central; chain intact: 10 entries\n")
    let officers = try roadside(["central", "officer", "list", "--home", home.path])
    #expect(officers.stdout.contains("010001  肖志志"))
    // Central took the chosen PIN from the pushed record.
    let row = officers.stdout.split(separator: "\n").first { $0.hasPrefix("010001") }
    #expect(row?.split(separator: " ").suffix(2) == ["chosen", "active"])
  }

  @Test func lookupWithoutAnOfficerIsRefused() throws {
    let home = try homeWithTerminal()
    let run = try roadside([
      "lookup", normalLicence, "--terminal", "T-BJ-0001", "--home", home.path,
    ])
    #expect(run.status == 77)
    #expect(
      run.stderr
        == "error: no officer is logged in on this terminal; run 'roadside login --terminal … --officer …'\n"
    )
  }

  @Test func wrongPINsCountDownThenLock() throws {
    let home = try homeWithTerminal()
    // 010007 is of T-BJ-0001's unit (东城).
    let args = ["login", "--terminal", "T-BJ-0001", "--officer", "010007", "--home", home.path]
    let first = try roadside(args, input: "123123\n")
    #expect(first.status == 77)
    #expect(
      first.stderr
        == "error: wrong PIN for officer 010007; 4 attempts left before the officer is locked on this terminal\n"
    )
    for _ in 0..<4 { _ = try roadside(args, input: "123123\n") }
    let locked = try roadside(args, input: "010007\n")
    #expect(locked.status == 77)
    #expect(
      locked.stderr
        == "error: officer 010007 is locked on this terminal after 5 wrong PINs; central must unlock them ('roadside central officer unlock 010007') and the terminal sync\n"
    )
  }

  @Test func unknownTerminalsAndUnreachableCentral() throws {
    let home = try initialisedHome()
    let unknown = try roadside([
      "terminal", "init", "--id", "T-ZZ-0001", "--central", "local", "--enrol",
      "0000-0000-0000-0000", "--home", home.path,
    ])
    #expect(unknown.status == 77)
    #expect(
      unknown.stderr
        == "error: central refused the request (unknown_terminal): central does not know terminal T-ZZ-0001; add it with 'roadside central terminal add --id T-ZZ-0001 --unit …'\n"
    )
    let offline = try roadside([
      "terminal", "init", "--id", "T-BJ-0001", "--central", "http://127.0.0.1:9", "--home",
      home.path,
    ])
    #expect(offline.status == 69)
    #expect(offline.stderr.hasPrefix("error: cannot reach central: http://127.0.0.1:9: "))
    #expect(
      !FileManager.default.fileExists(
        atPath: home.appendingPathComponent("terminals/T-BJ-0001/terminal.sqlite").path))
    let missing = try roadside(["status", "--terminal", "T-BJ-0009", "--home", home.path])
    #expect(missing.status == 66)
    #expect(
      missing.stderr
        == "error: no terminal T-BJ-0009 in this home; run 'roadside terminal init --id T-BJ-0009 --central …'\n"
    )
    let badURL = try roadside([
      "terminal", "init", "--id", "T-BJ-0001", "--central", "ftp://x", "--home", home.path,
    ])
    #expect(badURL.status == 64)
    #expect(
      badURL.stderr
        == "error: --central \"ftp://x\" is neither 'local' nor an http:// or https:// URL such as http://127.0.0.1:8080\n"
    )
  }

  @Test func aRevokedTerminalIsToldSo() throws {
    let home = try homeWithTerminal()
    #expect(
      try roadside([
        "central", "terminal", "revoke", "T-BJ-0001", "--reason", "lost", "--home", home.path,
      ]).status == 0)
    let sync = try roadside(["sync", "--terminal", "T-BJ-0001", "--home", home.path])
    #expect(sync.status == 77)
    #expect(
      sync.stderr
        == "error: central refused the request (terminal_revoked): terminal T-BJ-0001 was reported lost and revoked\n"
    )
  }

  @Test func unknownOffenceOnRecord() throws {
    let home = try homeWithTerminal()
    let args = ["--terminal", "T-BJ-0001", "--home", home.path]
    _ = try roadside(["login", "--officer", "010001"] + args, input: firstLogin)
    let run = try roadside(
      [
        "record", "--licence", normalLicence, "--plate", "京A12345", "--vehicle", "C2", "--offence",
        "9999", "--place", "x",
      ] + args)
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: unknown offence code \"9999\"; the terminal's catalogue has the codes 'roadside central offence list' shows (sync first if it is empty)\n"
    )
  }
}

@Suite(.serialized) struct VerifyCLITests {
  @Test func unreadableCodesAndMissingSessions() throws {
    let home = try initialisedHome()
    let created = try roadside([
      "terminal", "init", "--id", "T-BJ-0001", "--central", "local", "--home", home.path, "--now",
      now,
    ])
    #expect(created.status == 0, "\(created.stderr)")
    let args = ["--terminal", "T-BJ-0001", "--home", home.path, "--now", now]
    let noSession = try roadside(["verify", "EL1.abc"] + args)
    #expect(noSession.status == 77)
    _ = try roadside(["login", "--officer", "010001"] + args, input: firstLogin)
    let garbage = try roadside(["verify", "--vehicle", "C1", "EL1.abc~def"] + args)
    #expect(garbage.status == 65)
    #expect(
      garbage.stdout.hasPrefix(
        "INVALID: the code is not a well-formed e-licence code (forged, damaged or cut off).\n  malformed: "
      ))
    let version = try roadside(["verify", "-"] + args, input: "EL9.x~y\n")
    #expect(version.status == 65)
    let badClass = try roadside(["verify", "--vehicle", "Z9", "EL1.x"] + args)
    #expect(badClass.status == 65)
    #expect(
      badClass.stderr
        == "error: unknown licence class \"Z9\"; valid classes are A1 A2 A3 B1 B2 C1 C2 C3 C4 C5 C6 D E F M N P\n"
    )
    let audit = try roadside(["audit"] + args)
    #expect(audit.stdout.contains("verify"))
  }
}

@Suite(.serialized) struct HolderCLITests {
  @Test func applyWaitForTheReviewShowAndVerify() throws {
    let home = newHome()
    let friday = "2026-11-20T10:00:00+08:00"
    #expect(try roadside(["central", "init", "--home", home.path, "--now", friday]).status == 0)
    // This driver starts without the app: their fixture phone is removed.
    try FileManager.default.removeItem(
      at: home.appendingPathComponent("holders/\(normalLicence).json"))
    let apply = try roadside([
      "holder", "apply", normalLicence, "--home", home.path, "--now", friday,
    ])
    #expect(
      apply.stdout
        == "Applied for an e-licence for \(normalLicence); the review completes at 2026-11-23T10:00:00+08:00\n"
    )
    let early = try roadside([
      "holder", "show", normalLicence, "--home", home.path, "--now", "2026-11-22T12:00:00+08:00",
    ])
    #expect(
      early.stdout.hasSuffix(
        "  E-licence     pending (review completes 2026-11-23T10:00:00+08:00)\n"))
    let monday = "2026-11-23T10:00:00+08:00"
    let shown = try roadside([
      "holder", "show", normalLicence, "--home", home.path, "--now", monday,
    ])
    #expect(shown.stdout.hasPrefix("┌ 电子驾驶证 · 正常 (black)\n"))
    let code = try #require(shown.stdout.split(separator: "\n").last.map(String.init))
    #expect(code.hasPrefix("EL1.") && code.utf8.count <= 1_800)

    let args = ["--terminal", "T-BJ-0001", "--home", home.path, "--now", monday]
    #expect(
      try roadside([
        "terminal", "init", "--id", "T-BJ-0001", "--central", "local", "--home", home.path, "--now",
        monday,
      ]).status == 0)
    _ = try roadside(["login", "--officer", "010001"] + args, input: firstLogin)
    let valid = try roadside(["verify", "--vehicle", "C2", code] + args)
    #expect(valid.status == 0)
    #expect(
      valid.stdout.hasPrefix(
        "VALID: the e-licence is genuine, fresh and current, and permits driving a C2.\n"))
    let replay = try roadside(["verify", "-", "--json"] + args, input: code + "\n")
    #expect(replay.status == 1)
    #expect(replay.stdout.contains("\"code\" : \"replay\""))
    let later = try roadside([
      "verify", code, "--terminal", "T-BJ-0001", "--home", home.path, "--now",
      "2026-11-23T10:05:00+08:00",
    ])
    #expect(later.status == 1)
    #expect(
      later.stdout.hasPrefix(
        "INVALID: the code was displayed too long ago (a screenshot or a recording).\n"))

    // A class change supersedes the e-licence: the phone says re-apply, the terminal INVALID.
    #expect(
      try roadside([
        "central", "licence", "change-class", normalLicence, "--to", "C2,E", "--home", home.path,
        "--now", monday,
      ]).status == 0)
    let screen = try roadside([
      "holder", "show", normalLicence, "--home", home.path, "--now", "2026-11-23T10:06:00+08:00",
    ])
    #expect(
      screen.stdout.contains("  E-licence     superseded: re-apply ('roadside holder apply')\n"))
    let newCode = try #require(screen.stdout.split(separator: "\n").last.map(String.init))
    _ = try roadside([
      "sync", "--terminal", "T-BJ-0001", "--home", home.path, "--now", "2026-11-23T10:06:00+08:00",
    ])
    _ = try roadside(
      [
        "login", "--officer", "010001", "--terminal", "T-BJ-0001", "--home", home.path, "--now",
        "2026-11-23T10:06:00+08:00",
      ], input: laterLogin)
    let superseded = try roadside([
      "verify", newCode, "--terminal", "T-BJ-0001", "--home", home.path, "--now",
      "2026-11-23T10:06:10+08:00",
    ])
    #expect(superseded.status == 1)
    #expect(superseded.stdout.contains("superseded_epoch"))
  }

  @Test func showWithoutAPhoneAndUnknownClaims() throws {
    let home = try initialisedHome()
    try? FileManager.default.removeItem(
      at: home.appendingPathComponent("holders/\(normalLicence).json"))
    let none = try roadside(["holder", "show", normalLicence, "--home", home.path])
    #expect(none.status == 66)
    #expect(
      none.stderr
        == "error: no phone for licence 110114********1869 in this home; run 'roadside holder apply \(normalLicence)' first\n"
    )
    let bad = try roadside([
      "holder", "show", normalLicence, "--disclose", "cl,zz", "--home", home.path,
    ])
    #expect(bad.status == 64)
    #expect(bad.stderr == "error: unknown claim \"zz\"; claims are no nm sx bd cl vt vf vu fi ad\n")
  }
}

@Suite(.serialized) struct VerdictCLITests {
  /// A home where the licence's holder has a phone with an issued e-licence and terminal
  /// T-BJ-0001 is synced with officer 010001 logged in, all at `time`.
  func world(_ time: String) throws -> (home: URL, licence: String) {
    let home = newHome()
    #expect(try roadside(["central", "init", "--home", home.path, "--now", time]).status == 0)
    let licence = try #require(
      try FileManager.default.contentsOfDirectory(
        atPath: home.appendingPathComponent("holders").path
      ).map { String($0.dropLast(".json".count)) }.sorted().first {
        try! String(
          contentsOf: home.appendingPathComponent("holders/\($0).json"), encoding: .utf8
        )
        .contains("issuerPart")
      })
    #expect(
      try roadside([
        "terminal", "init", "--id", "T-BJ-0001", "--central", "local", "--home", home.path, "--now",
        time,
      ]).status == 0)
    _ = try roadside(
      [
        "login", "--officer", "010001", "--terminal", "T-BJ-0001", "--home", home.path, "--now",
        time,
      ], input: firstLogin)
    return (home, licence)
  }

  func code(_ home: URL, _ licence: String, _ time: String, nonce: String? = nil) throws -> String {
    let shown = try roadside(
      ["holder", "show", licence, "--home", home.path, "--now", time]
        + (nonce.map { ["--nonce", $0] } ?? []))
    return try #require(shown.stdout.split(separator: "\n").last.map(String.init))
  }

  func verify(_ home: URL, _ code: String, _ time: String, _ extra: [String] = []) throws -> Run {
    try roadside(
      ["verify", code, "--json", "--terminal", "T-BJ-0001", "--home", home.path, "--now", time]
        + extra)
  }

  func reasons(_ run: Run) throws -> [String] {
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let verdict = try #require(object["verdict"] as? [String: Any])
    return (verdict["reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
  }

  @Test func nonceStatusKeysAndStaleness() throws {
    let t0 = "2026-11-23T10:00:00+08:00"
    let (home, licence) = try world(t0)

    // The challenge: answered, or not.
    let challenged = try code(home, licence, "2026-11-23T10:00:05+08:00", nonce: "7f3a")
    #expect(
      try verify(home, challenged, "2026-11-23T10:00:06+08:00", ["--nonce", "7f3a"]).status == 0)
    let other = try code(home, licence, "2026-11-23T10:00:07+08:00", nonce: "7f3a")
    let wrong = try verify(home, other, "2026-11-23T10:00:08+08:00", ["--nonce", "0000"])
    #expect(wrong.status == 1)
    #expect(try reasons(wrong) == ["nonce_mismatch"])

    // Suspended at central, synced: INVALID by status.
    #expect(
      try roadside([
        "central", "licence", "suspend", licence, "--home", home.path, "--now",
        "2026-11-23T10:01:00+08:00",
      ]).status == 0)
    _ = try roadside([
      "sync", "--terminal", "T-BJ-0001", "--home", home.path, "--now", "2026-11-23T10:01:10+08:00",
    ])
    let suspended = try verify(
      home, try code(home, licence, "2026-11-23T10:01:20+08:00"), "2026-11-23T10:01:21+08:00")
    #expect(suspended.status == 1)
    #expect(try reasons(suspended) == ["status_not_normal"])
    _ = try roadside([
      "central", "licence", "reinstate", licence, "--home", home.path, "--now",
      "2026-11-23T10:02:00+08:00",
    ])

    // A cache over 24 hours old cannot tell: UNDETERMINED, exit 2.
    let later = "2026-11-24T10:30:00+08:00"
    _ = try roadside(
      [
        "login", "--officer", "010001", "--terminal", "T-BJ-0001", "--home", home.path, "--now",
        later,
      ], input: laterLogin)
    let stale = try verify(home, try code(home, licence, later), later)
    #expect(stale.status == 2)

    // The issuer key revoked, synced: nothing it signed verifies.
    let kid = "BJ-2026-01"
    #expect(
      try roadside([
        "central", "keys", "revoke", kid, "--home", home.path, "--now", "2026-11-24T10:31:00+08:00",
      ]).status == 0)
    _ = try roadside([
      "sync", "--terminal", "T-BJ-0001", "--home", home.path, "--now", "2026-11-24T10:31:10+08:00",
    ])
    let revoked = try verify(
      home, try code(home, licence, "2026-11-24T10:31:20+08:00"), "2026-11-24T10:31:21+08:00")
    #expect(revoked.status == 1)
    #expect(try reasons(revoked) == ["key_revoked"])

  }

  @Test func aKeyTheTerminalHasNotSyncedIsUnknown() throws {
    let t0 = "2026-11-23T10:00:00+08:00"
    let (home, licence) = try world(t0)
    #expect(
      try roadside([
        "central", "keys", "rotate", "--kid", "BJ-2026-02", "--home", home.path, "--now",
        "2026-11-23T10:00:30+08:00",
      ]).status == 0)
    try FileManager.default.removeItem(at: home.appendingPathComponent("holders/\(licence).json"))
    #expect(
      try roadside([
        "holder", "apply", licence, "--home", home.path, "--now", "2026-11-23T10:01:00+08:00",
      ]).status == 0)
    let tomorrow = "2026-11-24T10:01:00+08:00"
    _ = try roadside(
      [
        "login", "--officer", "010001", "--terminal", "T-BJ-0001", "--home", home.path, "--now",
        tomorrow,
      ], input: laterLogin)
    let unknown = try verify(home, try code(home, licence, tomorrow), tomorrow)
    // The terminal never pulled the new key: INVALID by key, decided before the cache.
    #expect(unknown.status == 1)
    #expect(try reasons(unknown) == ["unknown_key"])
  }
}
