import Foundation
import Testing

/// Enrolment from the command line: a code shown once by `central terminal add` (and
/// `central init`), required by `terminal init --enrol`, refused when wrong or used, and
/// replaced by `central terminal reset`, after which the old device is refused.
@Suite(.serialized) struct EnrolmentCLITests {
  func shownCode(in output: String, for terminal: String) -> String? {
    output.split(separator: "\n").first { $0.hasPrefix("  \(terminal)  ") }
      .map { String($0.split(separator: " ")[1]) }
  }

  @Test func addEnrolResetAndTheOldDeviceIsRefused() throws {
    let home = try initialisedHome()
    let base = ["--home", home.path, "--now", now]
    let added = try roadside(
      ["central", "terminal", "add", "--id", "T-BJ-0099", "--unit", "北京市公安局公安交通管理局东城交通支队"]
        + base)
    #expect(added.status == 0, "\(added.stderr)")
    #expect(added.stdout.hasPrefix("Added terminal T-BJ-0099 (北京市公安局公安交通管理局东城交通支队)\n"))
    let code = try #require(shownCode(in: added.stdout, for: "T-BJ-0099"))
    #expect(code.wholeMatch(of: /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/) != nil)
    #expect(added.stdout.hasSuffix("  valid until 2026-11-29T09:30:00+08:00\n"))

    let malformed = try roadside(
      ["terminal", "init", "--id", "T-BJ-0099", "--central", "local", "--enrol", "1234"] + base)
    #expect(malformed.status == 64)
    #expect(
      malformed.stderr
        == "error: --enrol takes the 16-character code central showed (XXXX-XXXX-XXXX-XXXX), not \"1234\" (see 'roadside help')\n"
    )
    let wrong = try roadside(
      [
        "terminal", "init", "--id", "T-BJ-0099", "--central", "local", "--enrol",
        "0000-0000-0000-0000", "--no-sync",
      ] + base)
    #expect(wrong.status == 77)
    #expect(
      wrong.stderr
        == "error: central refused the request (enrolment_invalid): that is not terminal T-BJ-0099's enrolment code; ask the unit for a new one ('roadside central terminal reset T-BJ-0099')\n"
    )
    #expect(
      !FileManager.default.fileExists(
        atPath: home.appendingPathComponent("terminals/T-BJ-0099/terminal.sqlite").path))
    let enrolled = try roadside(
      ["terminal", "init", "--id", "T-BJ-0099", "--central", "local", "--enrol", code, "--no-sync"]
        + base)
    #expect(enrolled.status == 0, "\(enrolled.stderr)")
    #expect(enrolled.stdout == "Terminal T-BJ-0099 (北京市公安局公安交通管理局东城交通支队) registered with local\n")
    #expect(try roadside(["sync", "--terminal", "T-BJ-0099"] + base).status == 0)

    let reset = try roadside(
      ["central", "terminal", "reset", "T-BJ-0099", "--reason", "device lost"] + base)
    #expect(reset.status == 0)
    #expect(reset.stdout.hasPrefix("Reset terminal T-BJ-0099: its old key no longer works\n"))
    #expect(shownCode(in: reset.stdout, for: "T-BJ-0099") != code)
    let refused = try roadside(["sync", "--terminal", "T-BJ-0099"] + base)
    #expect(refused.status == 77)
    #expect(refused.stdout == "Pushed 0 records: 0 accepted, 0 duplicate, 0 rejected, 0 conflict\n")
    #expect(
      refused.stderr
        == "error: central refused the request (terminal_not_enrolled): terminal T-BJ-0099 has not enrolled a key; run 'roadside terminal init --enrol CODE'\n"
    )
    let hours = try roadside(
      ["central", "terminal", "reset", "T-BJ-0099", "--valid-hours", "0"] + base)
    #expect(hours.status == 64)
    #expect(hours.stderr == "error: --valid-hours must be 1 to 720, not 0 (see 'roadside help')\n")
  }
}
