import Foundation
import RoadsideStorage
import Testing

@Suite(.serialized) struct CLIHappyPathTests {
  @Test func demoRunsOnTheEmbeddedDefaults() throws {
    let run = try roadside(["demo", "--now", now])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.isEmpty)
    #expect(run.stdout.hasPrefix("== Roadside demo — 2026-11-22T09:30:00+08:00\n"))
    #expect(
      run.stdout.contains(
        "  VALID: the e-licence is genuine, fresh and current, and permits driving a C2.\n  ✓ verdict VALID\n"
      ))
    #expect(run.stdout.contains("  ✓ balance {110114197811271869: 2750}\n  ✓ reconcile 0\n"))
    #expect(run.stdout.contains("  ✓ conflicts {stale_status: 1}\n"))
    #expect(!run.stdout.contains("✗"))
    #expect(run.stdout.contains("\nThe story held: 13 steps, every check as expected (transcript "))
    // The story left the CLI for Scenarios/demo/the-demo.yaml with its lines kept: the
    // transcript is the one the embedded story told.
    #expect(run.stdout.contains("(transcript 5f34a52234898fd2)."))
    #expect(
      run.stdout.hasSuffix(
        "Temporary home removed. Run with --keep to explore it with the other commands.\n"))
    // The same story twice tells the same transcript.
    let again = try roadside(["demo", "--now", now])
    #expect(again.stdout == run.stdout)
  }

  @Test func demoKeepsItsHomeWhenAsked() throws {
    let home = newHome()
    let run = try roadside(["demo", "--home", home.path, "--now", now])
    #expect(run.status == 0)
    #expect(
      run.stdout.hasSuffix(
        "State kept in \(home.path); try: roadside central conflicts --home \(home.path)\n"))
    let conflicts = try roadside(["central", "conflicts", "--home", home.path])
    #expect(conflicts.stdout.contains("stale_status"))
  }

  @Test func initThenShowListAndChanges() throws {
    let home = try initialisedHome()
    let show = try roadside([
      "central", "licence", "show", normalLicence, "--home", home.path, "--now", now,
    ])
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.hasPrefix("Licence \(normalLicence)  魏英 (女, born 1978-11-27)\n"))
    #expect(show.stdout.contains("  Status        A 正常 (normal)\n"))
    #expect(show.stdout.contains("  Drive today   yes\n"))

    let list = try roadside([
      "central", "licence", "list", "--status", "D", "--home", home.path, "--now", now,
    ])
    #expect(list.status == 0)
    let rows = list.stdout.split(separator: "\n").dropFirst().dropLast()
    #expect(!rows.isEmpty && rows.allSatisfy { $0.contains(" D") })

    let json = try roadside([
      "central", "licence", "list", "--with-mandate", "--json", "--home", home.path, "--now", now,
    ])
    let array = try #require(
      try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
    #expect(array.count == 96)
    #expect(
      Set(array[0].keys) == [
        "number", "name", "classes", "status", "validUntil", "points", "mandate",
      ])
    #expect(array.allSatisfy { $0["mandate"] as? Bool == true })
  }

  @Test func showJSONHasTheDocumentedShape() throws {
    let home = try initialisedHome()
    let run = try roadside([
      "central", "licence", "show", normalLicence, "--json", "--home", home.path, "--now", now,
    ])
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(
      Set(object.keys) == [
        "asOf", "licence", "permitsDriving", "expired", "points", "vehicles", "mandate",
        "decisions", "epochs",
      ])
    let licence = try #require(object["licence"] as? [String: Any])
    #expect(licence["number"] as? String == normalLicence)
    #expect(licence["status"] as? String == "A")
    #expect(licence["classes"] as? [String] == ["C2"])
    #expect(object["asOf"] as? String == now)
  }

  @Test func adminCommandsAppendTheirChangesInOrder() throws {
    let home = try initialisedHome()
    let args = ["--home", home.path, "--now", now]
    let before = try roadside(["central", "info", "--json"] + args)
    let info = try #require(
      try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [String: Any])
    let latest = try #require((info["counts"] as? [String: Any])?["latestSequence"] as? Int)

    let suspend = try roadside(
      ["central", "licence", "suspend", normalLicence, "--until", "2027-01-31", "--reason", "test"]
        + args)
    #expect(suspend.status == 0, "\(suspend.stderr)")
    #expect(
      suspend.stdout == """
        Suspended licence \(normalLicence): status D 暂扣, classes C2, epoch 3
          change \(latest + 1): licence \(normalLicence) (licence.suspend)

        """)
    let again = try roadside(["central", "licence", "suspend", normalLicence] + args)
    #expect(again.status == 65)
    #expect(
      again.stderr
        == "error: the licence is already suspended (status D); reinstate it first to change the term\n"
    )
    #expect(try roadside(["central", "licence", "reinstate", normalLicence] + args).status == 0)
    #expect(
      try roadside(["central", "licence", "change-class", normalLicence, "--to", "C1,E"] + args)
        .status == 0)

    let changes = try roadside(["central", "changes", "--after", String(latest), "--json"] + args)
    let list = try #require(
      try JSONSerialization.jsonObject(with: Data(changes.stdout.utf8)) as? [[String: Any]])
    #expect(list.map { $0["seq"] as? Int } == [latest + 1, latest + 2, latest + 3])
    #expect(
      list.map { $0["action"] as? String } == [
        "licence.suspend", "licence.reinstate", "licence.change-class",
      ])
    #expect(list.map { $0["reason"] as? String } == ["test", nil, nil])
  }

  @Test func environmentVariablesSetHomeAndTime() throws {
    let home = newHome()
    let env = ["ROADSIDE_HOME": home.path, "ROADSIDE_NOW": "2026-12-01T08:00:00Z"]
    #expect(try roadside(["central", "init"], environment: env).status == 0)
    let info = try roadside(["central", "info"], environment: env)
    #expect(info.stdout.contains("  Created       2026-12-01T16:00:00+08:00\n"))
    #expect(
      FileManager.default.fileExists(
        atPath: home.appendingPathComponent("central/central.sqlite").path))
  }

  @Test func homeDefaultsToDotRoadsideInTheWorkingDirectory() throws {
    let cwd = newHome()
    #expect(try roadside(["central", "init", "--now", now], in: cwd).status == 0)
    #expect(
      FileManager.default.fileExists(
        atPath: cwd.appendingPathComponent(".roadside/central/central.sqlite").path))
  }

  @Test func twoHomesDoNotInterfere() throws {
    let a = try initialisedHome()
    let b = try initialisedHome()
    #expect(
      try roadside(["central", "licence", "revoke", normalLicence, "--home", a.path, "--now", now])
        .status == 0)
    let inB = try roadside([
      "central", "licence", "show", normalLicence, "--home", b.path, "--now", now,
    ])
    #expect(inB.stdout.contains("  Status        A 正常 (normal)\n"))
  }

  @Test func fixturesGenerateAndCheck() throws {
    let out = newHome().appendingPathComponent("pop")
    let gen = try roadside([
      "fixtures", "generate", "--licences", "500", "--seed", "7", "--out", out.path, "--now", now,
    ])
    #expect(gen.status == 0, "\(gen.stderr)")
    #expect(gen.stdout.hasPrefix("Wrote 500 licences, "))
    let check = try roadside(["fixtures", "check", out.path])
    #expect(check.status == 0)
    #expect(check.stdout.hasPrefix("\(out.path): 500 licences, "))
    #expect(check.stdout.hasSuffix(" — all valid on 2026-11-22\n"))
    let home = newHome()
    #expect(
      try roadside(["central", "init", "--fixtures", out.path, "--home", home.path, "--now", now])
        .status == 0)
  }

  /// `fixtures check` holds a set to the law on its own day or on --as-of, and a refusal
  /// names the file, the line, the record and the article (公安部令第162号 §65 here).
  @Test func fixturesCheckRefusesASetThatBreaksTheLaw() throws {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let shipped = try String(
      contentsOf: repository.appendingPathComponent("Fixtures/default/licences.jsonl"),
      encoding: .utf8)
    let first = String(shipped.split(separator: "\n")[0])
    #expect(first.contains("\"number\":\"110114197811271869\""))
    let dir = newHome().appendingPathComponent("set")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try
      (first.replacingOccurrences(of: "\"classes\":[\"C2\"]", with: "\"classes\":[\"B2\"]")
      + "\n").write(
        to: dir.appendingPathComponent("licences.jsonl"), atomically: true, encoding: .utf8)

    let today = try roadside(["fixtures", "check", dir.path])
    #expect(today.status == 0, "\(today.stderr)")
    #expect(
      today.stdout
        == "\(dir.path): 1 licences, 0 vehicles, 0 officers, 0 terminals, 0 mandates, 0 decisions — all valid on 2022-09-30\n"
    )
    let later = try roadside(["fixtures", "check", dir.path, "--as-of", "2039-01-01"])
    #expect(later.status == 65)
    #expect(later.stdout.isEmpty)
    #expect(
      later.stderr
        == "error: \(dir.path)/licences.jsonl line 1: licence 110114********1869: the holder turned 60 on 2038-11-27 and may no longer hold class B2 (大型货车) (公安部令第162号 §65); on 2039-01-01 the record must show the class exchanged\n"
    )
    let badDate = try roadside(["fixtures", "check", dir.path, "--as-of", "1.1.2039"])
    #expect(badDate.status == 64)
    #expect(
      badDate.stderr
        == "error: --as-of \"1.1.2039\" is not a date; write it as YYYY-MM-DD (see 'roadside help')\n"
    )
  }
}

@Suite(.serialized) struct CLIBadInputTests {
  @Test func badChecksum() throws {
    let home = try initialisedHome()
    let run = try roadside([
      "central", "licence", "show", "110114197811271868", "--home", home.path,
    ])
    #expect(run.status == 65)
    #expect(run.stdout.isEmpty)
    #expect(
      run.stderr
        == "error: the licence number's check character is 8 but GB 11643 gives 9 for the first 17 digits; check the number for a typo\n"
    )
  }

  @Test func shortLicenceNumber() throws {
    let home = try initialisedHome()
    let run = try roadside(["central", "licence", "suspend", "12345", "--home", home.path])
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: a licence number is the holder's 18-character citizen ID number, but 5 characters were given\n"
    )
  }

  @Test func unknownLicence() throws {
    let home = try initialisedHome()
    let run = try roadside([
      "central", "licence", "show", "11010519491231002X", "--home", home.path,
    ])
    #expect(run.status == 66)
    #expect(
      run.stderr
        == "error: no licence 110105********002X in the central store; check the number, or list them with 'roadside central licence list'\n"
    )
  }

  @Test func unknownOffence() throws {
    let home = try initialisedHome()
    let run = try roadside(["central", "offence", "show", "9999", "--home", home.path])
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: unknown offence code \"9999\"; run 'roadside central offence list' to see the 67 codes of catalogue RS-2026.2\n"
    )
  }

  @Test func unknownClass() throws {
    let home = try initialisedHome()
    let before = try roadside([
      "central", "changes", "--json", "--limit", "100000", "--home", home.path,
    ]).stdout
    let run = try roadside([
      "central", "licence", "change-class", normalLicence, "--to", "C1,Z9", "--home", home.path,
    ])
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: unknown licence class \"Z9\"; valid classes are A1 A2 A3 B1 B2 C1 C2 C3 C4 C5 C6 D E F M N P\n"
    )
    #expect(
      try roadside(["central", "changes", "--json", "--limit", "100000", "--home", home.path])
        .stdout == before)
  }

  @Test func unknownStatusCode() throws {
    let home = try initialisedHome()
    let run = try roadside(["central", "licence", "list", "--status", "Q", "--home", home.path])
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: unknown licence status code \"Q\"; valid codes are A B C D E F G H I J K M N P R S U Z\n"
    )
  }

  @Test func homeWithoutACentralStore() throws {
    let home = newHome()
    let run = try roadside(["central", "licence", "list", "--home", home.path])
    #expect(run.status == 66)
    #expect(
      run.stderr
        == "error: no central store in \(home.path); run 'roadside central init --home \(home.path)' first\n"
    )
  }

  @Test func initTwiceIsRefusedAndKeepsTheStore() throws {
    let home = try initialisedHome()
    _ = try roadside(["central", "licence", "revoke", normalLicence, "--home", home.path])
    let run = try roadside(["central", "init", "--home", home.path])
    #expect(run.status == 73)
    #expect(
      run.stderr
        == "error: a central store already exists in \(home.path); use another --home, or delete \(home.path)/central/central.sqlite to start again\n"
    )
    let show = try roadside(["central", "licence", "show", normalLicence, "--home", home.path])
    #expect(show.stdout.contains("  Status        F 吊销 (revoked)\n"))
  }

  @Test func corruptStoreFile() throws {
    let home = newHome()
    let path = home.appendingPathComponent("central/central.sqlite")
    try FileManager.default.createDirectory(
      at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(repeating: 0x5A, count: 10_000).write(to: path)
    let run = try roadside(["central", "info", "--home", home.path])
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: \(path.path) is not a SQLite database or is damaged; move it aside and run 'roadside central init'\n"
    )
    #expect(try Data(contentsOf: path) == Data(repeating: 0x5A, count: 10_000))
  }

  @Test func foreignSQLiteFile() throws {
    let home = newHome()
    let path = home.appendingPathComponent("central/central.sqlite")
    try FileManager.default.createDirectory(
      at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Connection(path: path.path).executeScript("CREATE TABLE t (x INTEGER);")
    let run = try roadside(["central", "info", "--home", home.path])
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: \(path.path) is a SQLite database but not a Roadside central store; use another --home or run 'roadside central init' in a new one\n"
    )
  }

  @Test func fixtureWithAWrongFieldCreatesNothing() throws {
    let dir = newHome().appendingPathComponent("fx")
    #expect(
      try roadside(["fixtures", "generate", "--licences", "20", "--out", dir.path, "--now", now])
        .status == 0)
    let file = dir.appendingPathComponent("licences.jsonl")
    var lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(
      String.init)
    lines[4] = lines[4].replacingOccurrences(of: "\"fileNumber\"", with: "\"fileNo\"")
    try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
    let home = newHome()
    let run = try roadside(["central", "init", "--fixtures", dir.path, "--home", home.path])
    #expect(run.status == 65)
    #expect(run.stderr == "error: \(file.path) line 5: field \"fileNumber\" is missing\n")
    #expect(
      !FileManager.default.fileExists(
        atPath: home.appendingPathComponent("central/central.sqlite").path))
  }

  @Test func wrongFlag() throws {
    let run = try roadside(["central", "licence", "list", "--bogus"])
    #expect(run.status == 64)
    #expect(run.stderr == "error: Unknown option '--bogus' (see 'roadside help')\n")
  }

  @Test func badNow() throws {
    let run = try roadside(["central", "info", "--now", "yesterday"])
    #expect(run.status == 64)
    #expect(
      run.stderr
        == "error: --now \"yesterday\" is not an ISO 8601 time; write it like 2026-11-22T09:30:00+08:00 (see 'roadside help')\n"
    )
  }

  @Test func badReductionAndMissingArgument() throws {
    let reduce = try roadside(["central", "points", "reduce", normalLicence, "--points", "7"])
    #expect(reduce.status == 64)
    #expect(
      reduce.stderr
        == "error: --points must be 1 to 6; study reduces at most 6 points a cycle (see 'roadside help')\n"
    )
    let missing = try roadside(["central", "licence", "show"])
    #expect(missing.status == 64)
    #expect(missing.stderr == "error: Missing expected argument '<number>' (see 'roadside help')\n")
  }

  @Test func connectionsAreForPostgreSQL() throws {
    let home = newHome().path
    let serve = try roadside(["central", "serve", "--home", home, "--connections", "2"])
    #expect(serve.status == 64)
    #expect(
      serve.stderr
        == "error: --connections 2 needs a PostgreSQL store; a SQLite file has one writer, so a node serves it over one connection\n"
    )
    let bench = try roadside(["bench", "central", "--connections", "3"])
    #expect(bench.status == 64)
    #expect(
      bench.stderr
        == "error: --connections 3 needs a PostgreSQL store; a SQLite file has one writer, so a node serves it over one connection\n"
    )
    let zero = try roadside(["central", "serve", "--connections", "0"])
    #expect(zero.status == 64)
    #expect(zero.stderr == "error: --connections must be 1 to 64 (see 'roadside help')\n")
    let fleet = try roadside(["bench", "central", "--fleet-dir", "/nonexistent-roadside-fleet"])
    #expect(fleet.status == 64)
    #expect(
      fleet.stderr
        == "error: --fleet-dir /nonexistent-roadside-fleet is not a folder: make it, or name one that is (see 'roadside help')\n"
    )
  }

  /// A fleet of its own size: the terminals numbered from T-BJ-0001, two officers each, the
  /// officer of terminal i of its unit.
  @Test func generateMakesTheFleetAsked() throws {
    let dir = newHome()
    let run = try roadside([
      "fixtures", "generate", "--licences", "300", "--terminals", "40", "--out", dir.path,
    ])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains(" 80 officers, 40 terminals, "))
    let terminals = try String(
      contentsOf: dir.appendingPathComponent("terminals.jsonl"), encoding: .utf8
    ).split(separator: "\n")
    let officers = try String(
      contentsOf: dir.appendingPathComponent("officers.jsonl"), encoding: .utf8
    ).split(separator: "\n")
    #expect(terminals.count == 40 && officers.count == 80)
    #expect(terminals.last?.hasPrefix("{\"id\":\"T-BJ-0040\",") == true)
    let unit = { (line: Substring) in
      line.components(separatedBy: "\"unit\":\"")[1].prefix(while: { $0 != "\"" })
    }
    for index in [0, 7, 39] { #expect(unit(terminals[index]) == unit(officers[index])) }
    #expect(try roadside(["fixtures", "check", dir.path]).status == 0)
    let bad = try roadside([
      "fixtures", "generate", "--licences", "10", "--terminals", "0", "--out", dir.path,
    ])
    #expect(bad.status == 64)
    #expect(
      bad.stderr
        == "error: --terminals must be 1 to 9999 (T-BJ-0001 to T-BJ-9999) (see 'roadside help')\n")
  }

  @Test func generateRefusesToOverwrite() throws {
    let dir = newHome()
    #expect(
      try roadside(["fixtures", "generate", "--licences", "5", "--out", dir.path]).status == 0)
    let original = try Data(contentsOf: dir.appendingPathComponent("licences.jsonl"))
    let run = try roadside([
      "fixtures", "generate", "--licences", "9", "--seed", "2", "--out", dir.path,
    ])
    #expect(run.status == 73)
    #expect(
      run.stderr
        == "error: \(dir.path) already holds licences.jsonl, vehicles.jsonl, officers.jsonl, terminals.jsonl, mandates.jsonl, decisions.jsonl, calendar.jsonl; pass --force to replace them or choose another --out\n"
    )
    #expect(try Data(contentsOf: dir.appendingPathComponent("licences.jsonl")) == original)
  }
}
