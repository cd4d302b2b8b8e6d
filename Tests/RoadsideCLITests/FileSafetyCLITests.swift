import Foundation
import RoadsideSpawn
import RoadsideStorage
import Testing

/// Files and folders are private whatever the umask; an empty or damaged file is refused
/// with exit 65 and its path, never turned into an empty store; `central reconcile` says
/// "no" with exit 1 (docs/security.md, "Files" and "Robustness").
@Suite(.serialized) struct FileSafetyCLITests {
  /// Runs `roadside` under `umask 000`.
  func roadsideUnderOpenUmask(_ arguments: [String]) throws -> (Int32, String) {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "umask 000; exec \"$0\" \"$@\"", roadsideBinary.path] + arguments
    process.environment = ProcessInfo.processInfo.environment.filter {
      !$0.key.hasPrefix("ROADSIDE_")
    }
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  func mode(_ url: URL) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? -1
  }

  @Test func everythingWrittenIsPrivateUnderAnyUmask() throws {
    let home = newHome().appendingPathComponent("home")
    let (status, output) = try roadsideUnderOpenUmask([
      "central", "init", "--home", home.path, "--now", now,
    ])
    #expect(status == 0)
    let code = try #require(
      output.split(separator: "\n").first { $0.hasPrefix("  T-BJ-0001  ") }?.split(
        separator: " ")[1])
    #expect(
      try roadsideUnderOpenUmask([
        "terminal", "init", "--id", "T-BJ-0001", "--central", "local", "--no-sync", "--enrol",
        String(code), "--home", home.path, "--now", now,
      ]).0 == 0)
    let files = [
      "central/central.sqlite", "bank/bank.sqlite", "bank/central.secret",
      "terminals/T-BJ-0001/terminal.sqlite", "holders/110114197811271869.json",
    ]
    for file in files {
      #expect(try mode(home.appendingPathComponent(file)) == 0o600, "\(file)")
    }
    for folder in ["", "central", "bank", "terminals", "terminals/T-BJ-0001", "holders"] {
      #expect(try mode(home.appendingPathComponent(folder)) == 0o700, "\(folder)")
    }
    let wal = home.appendingPathComponent("central/central.sqlite-wal")
    if FileManager.default.fileExists(atPath: wal.path) { #expect(try mode(wal) == 0o600) }
  }

  @Test func anEmptyStoreFileIsRefusedNotRecreated() throws {
    let home = newHome()
    let central = home.appendingPathComponent("central/central.sqlite")
    try FileManager.default.createDirectory(
      at: central.deletingLastPathComponent(), withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: central.path, contents: Data())
    let run = try roadside(["central", "info", "--home", home.path])
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: \(central.path) is not a SQLite database or is damaged; move it aside and run 'roadside central init'\n"
    )
    #expect(try FileManager.default.attributesOfItem(atPath: central.path)[.size] as? Int == 0)

    let bank = home.appendingPathComponent("bank/bank.sqlite")
    try FileManager.default.createDirectory(
      at: bank.deletingLastPathComponent(), withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: bank.path, contents: Data())
    let accounts = try roadside(["bank", "accounts", "--home", home.path])
    #expect(accounts.status == 65)
    #expect(
      accounts.stderr
        == "error: \(bank.path) is not a SQLite database or is damaged; move it aside and run 'roadside bank init'\n"
    )
  }

  @Test func aDamagedPhoneFileIsExit65WithItsPath() throws {
    let home = try initialisedHome()
    let phone = home.appendingPathComponent("holders/110114197811271869.json")
    try Data("{\"licence\": ".utf8).write(to: phone)
    let run = try roadside(["holder", "show", "110114197811271869", "--home", home.path])
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: the phone file \(phone.path) is damaged (not a Roadside phone's JSON); restore it, or delete it and apply again with 'roadside holder apply'\n"
    )
  }

  /// Two syncs of one terminal never race: while one holds the terminal's sync lock, a
  /// second is refused at once with exit 75 and says why.
  @Test func aSecondSyncOfOneTerminalIsRefusedWhileTheFirstRuns() throws {
    let home = try initialisedHome()
    let base = ["--home", home.path, "--now", now]
    #expect(
      try roadside(["terminal", "init", "--id", "T-BJ-0001", "--central", "local"] + base).status
        == 0)
    let lockPath = home.appendingPathComponent("terminals/T-BJ-0001/terminal.sqlite.sync-lock")
      .path
    let descriptor = open(lockPath, O_CREAT | O_RDWR, 0o600)
    #expect(flock(descriptor, LOCK_EX) == 0)
    let busy = try roadside(["sync", "--terminal", "T-BJ-0001"] + base)
    #expect(busy.status == 75)
    #expect(busy.stdout.isEmpty)
    #expect(
      busy.stderr
        == "error: another sync of this terminal is running; wait for it to finish, then sync again\n"
    )
    flock(descriptor, LOCK_UN)
    close(descriptor)
    #expect(try roadside(["sync", "--terminal", "T-BJ-0001"] + base).status == 0)
  }

  @Test func reconcileExitsOneWhenTheLedgersDiffer() throws {
    let home = try initialisedHome()
    let args = ["central", "reconcile", "--date", "2026-11-22", "--home", home.path, "--now", now]
    let agreed = try roadside(args)
    #expect(agreed.status == 0)
    #expect(agreed.stdout.hasSuffix("No differences\n"))
    // The bank took money central never asked for.
    try Connection(path: home.appendingPathComponent("bank/bank.sqlite").path).execute(
      "INSERT INTO deductions (key, licence, account, amount_fen, outcome, at, day, client) VALUES ('110000202699999999', '110114197811271869', '6222020200112233445', 20000, 'settled', '2026-11-22T09:00:00+08:00', '2026-11-22', 'central')"
    )
    let differ = try roadside(args)
    #expect(differ.status == 1)
    #expect(differ.stdout.contains("110000202699999999"))
    #expect(differ.stderr.isEmpty)
  }
}
