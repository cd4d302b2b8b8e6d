import Crypto
import Foundation
import RoadsideDomain
import RoadsideProtocol
import Testing

/// The general procedure's end and full-score education through the built binary:
/// `central notice list|decide`, `central decision void`, `central points education`.
@Suite(.serialized) struct ProcedureCLITests {
  /// A home with central, the bank and terminal T-BJ-0001, on which officer 010001 recorded
  /// drink-driving (a notice and a certificate) and synced.
  func drinkDrivingNotice() throws -> (home: URL, central: (String) -> [String]) {
    let home = newHome()
    let base = ["--home", home.path, "--now", now]
    #expect(try roadside(["central", "init"] + base).status == 0)
    #expect(
      try roadside(["terminal", "init", "--id", "T-BJ-0001", "--central", "local"] + base).status
        == 0)
    let args = ["--terminal", "T-BJ-0001"] + base
    #expect(try roadside(["login", "--officer", "010001"] + args, input: firstLogin).status == 0)
    let stop = try roadside(
      [
        "record", "--licence", normalLicence, "--plate", "京A12345", "--vehicle", "C2",
        "--offence", "1201", "--place", "长安街建国门",
      ] + args)
    #expect(stop.status == 0, "\(stop.stderr)")
    #expect(try roadside(["sync"] + args).status == 0)
    return (home, { at in ["--home", home.path, "--now", at] })
  }

  @Test func aNoticeIsDecidedAtTheUnitOnceAndCanBeVoided() throws {
    let (_, central) = try drinkDrivingNotice()
    let later = "2026-11-24T10:00:00+08:00"
    // The table pads every column but the last; DECISION is empty until decided.
    let open = try roadside(["central", "notice", "list"] + central(later))
    #expect(open.status == 0, "\(open.stderr)")
    #expect(
      open.stdout
        == """
        NOTICE              STATE  LICENCE             OFFENCE  PROPOSED                              REPORT BY   DECISION
        110000202600000156  open   110114********1869  1201     罚款 1500.00 元，记 12 分，暂扣6个月  2026-12-11\u{20}\u{20}

        """)
    let none = try roadside(["central", "notice", "list", "--state", "decided"] + central(later))
    #expect(none.stdout == "No decided processing notices.\n")

    // Only notices are decided; the law's measure cannot be changed; bad options are refused.
    let certificate = try roadside(
      ["central", "notice", "decide", "110000202600000157"] + central(later))
    #expect(certificate.status == 65)
    #expect(
      certificate.stderr
        == "error: document 110000202600000157 is a certificate, not a processing notice; only notices are decided at the unit\n"
    )
    let revoke = try roadside(
      ["central", "notice", "decide", "110000202600000156", "--measure", "revoke"] + central(later))
    #expect(revoke.status == 65)
    #expect(
      revoke.stderr
        == "error: offence 1201 carries suspended for 6 months by law (道路交通安全法 第91条第1款); --measure cannot change it\n"
    )
    let badMeasure = try roadside(
      ["central", "notice", "decide", "110000202600000156", "--measure", "suspend:30"]
        + central(later))
    #expect(badMeasure.status == 64)
    #expect(
      badMeasure.stderr
        == "error: --measure: a measure is suspend:MONTHS (1–24), revoke or none, not \"suspend:30\" (see 'roadside help')\n"
    )
    let badFine = try roadside(
      ["central", "notice", "decide", "110000202600000156", "--fine", "900"] + central(later))
    #expect(badFine.status == 65)
    #expect(
      badFine.stderr
        == "error: a fine of 900 yuan is outside the legal range for offence 1201: 1000–2000 yuan (道路交通安全法 第91条第1款)\n"
    )

    let decide = try roadside(
      ["central", "notice", "decide", "110000202600000156", "--json"] + central(later))
    #expect(decide.status == 0, "\(decide.stderr)")
    let outcome = try JSONSerialization.jsonObject(with: Data(decide.stdout.utf8)) as! [String: Any]
    let decisionJSON = try JSONSerialization.data(withJSONObject: outcome["decision"]!)
    let decision = try JSONDecoder().decode(PenaltyDocument.self, from: decisionJSON)
    #expect(decision.number == "110000202600000656")
    #expect(decision.kind == .decision && decision.terminal == "central")
    #expect(decision.charge.procedure == .general)
    #expect(decision.charge.fine == Money(yuan: 1500) && decision.charge.points == 12)
    #expect(decision.charge.measure == .suspend(months: 6))
    #expect(decision.payBy == LocalDate(iso: "2026-12-09"))
    #expect(outcome["pointsAfter"] as? Int == 12)
    #expect(outcome["deductionQueued"] as? Bool == true)
    // Signed by central: the signature verifies over the decision with the key it names.
    let key = try Curve25519.Signing.PublicKey(
      rawRepresentation: Data(base64Encoded: outcome["publicKey"] as! String)!)
    let signature = Data(base64Encoded: outcome["signature"] as! String)!
    #expect(key.isValidSignature(signature, for: try DocumentSubmission.signingBytes(of: decision)))
    var forged = decisionJSON
    forged.replaceSubrange(forged.range(of: Data("1500".utf8))!, with: Data("1000".utf8))
    let altered = try JSONDecoder().decode(PenaltyDocument.self, from: forged)
    #expect(!key.isValidSignature(signature, for: try DocumentSubmission.signingBytes(of: altered)))

    let again = try roadside(
      ["central", "notice", "decide", "110000202600000156"] + central(later))
    #expect(again.status == 65)
    #expect(
      again.stderr
        == "error: notice 110000202600000156 is already decided, by decision 110000202600000656\n")
    let show = try roadside(["central", "licence", "show", normalLicence] + central(later))
    #expect(show.stdout.contains("  Status        BDU 超分 暂扣 扣留"), "\(show.stdout)")
    let decided = try roadside(
      ["central", "notice", "list", "--state", "decided", "--json"] + central(later))
    let cases =
      try JSONSerialization.jsonObject(with: Data(decided.stdout.utf8)) as! [[String: Any]]
    #expect(cases.map { $0["decision"] as? String } == ["110000202600000656"])

    let void = try roadside(
      ["central", "decision", "void", "110000202600000656", "--reason", "wrong driver"]
        + central(later))
    #expect(void.status == 0, "\(void.stderr)")
    #expect(
      void.stdout
        == "Decision 110000202600000656 voided: its points are revoked and its notice is open again\n"
    )
    let reopened = try roadside(["central", "notice", "list", "--state", "open"] + central(later))
    #expect(reopened.stdout.contains("110000202600000156  open"), "\(reopened.stdout)")
    let voidAgain = try roadside(
      ["central", "decision", "void", "110000202600000656", "--reason", "again"] + central(later))
    #expect(voidAgain.status == 65)
    #expect(voidAgain.stderr == "error: decision 110000202600000656 is already void\n")
    let terminalDecision = try roadside(
      ["central", "decision", "void", "110000202600000157", "--reason", "x"] + central(later))
    #expect(terminalDecision.status == 66)
    #expect(
      terminalDecision.stderr
        == "error: no decision 110000202600000157 made at the unit; a terminal's decision is voided on that terminal ('roadside decision void')\n"
    )
  }

  @Test func fullScoreEducationNeedsTheStudyDaysAndThePaidFines() throws {
    let (_, central) = try drinkDrivingNotice()
    #expect(
      try roadside(
        ["central", "notice", "decide", "110000202600000156"]
          + central("2026-11-23T10:00:00+08:00")
      ).status == 0)
    func education(_ completed: String, _ exam: String, at: String) throws -> Run {
      try roadside(
        [
          "central", "points", "education", normalLicence, "--completed", completed, "--exam",
          exam,
        ] + central(at))
    }
    let early = try education("2026-11-26", "passed", at: "2026-11-26T10:00:00+08:00")
    #expect(early.status == 65)
    #expect(
      early.stderr
        == "error: full-score study is 7 days from 2026-11-23 (公安部令第163号 §18); the exam can be taken from 2026-11-30, not 2026-11-26\n"
    )
    let unpaid = try education("2026-11-30", "passed", at: "2026-11-30T10:00:00+08:00")
    #expect(unpaid.status == 65)
    #expect(
      unpaid.stderr
        == "error: the fine of decision 110000202600000656 is unpaid; points clear only when every fine is paid (公安部令第163号 §23)\n"
    )
    let failed = try education("2026-11-30", "failed", at: "2026-11-30T10:00:00+08:00")
    #expect(failed.status == 0, "\(failed.stderr)")
    #expect(
      failed.stdout
        == "Full-score exam failed for licence 110114197811271869; it may be retaken from 2026-12-10 (公安部令第163号 §21)\n"
    )
    #expect(
      try roadside(["central", "pay", "110000202600000656"] + central("2026-12-01T10:00:00+08:00"))
        .status == 0)
    let soon = try education("2026-12-05", "passed", at: "2026-12-05T10:00:00+08:00")
    #expect(soon.status == 65)
    #expect(
      soon.stderr
        == "error: the exam was failed on 2026-11-30; it may be retaken 10 days later, from 2026-12-10 (公安部令第163号 §21)\n"
    )
    let passed = try education("2026-12-10", "passed", at: "2026-12-10T10:00:00+08:00")
    #expect(passed.status == 0, "\(passed.stderr)")
    // B goes; the licence stays withheld while the six-month suspension runs (§23).
    #expect(
      passed.stdout.hasPrefix(
        "Full-score education passed: the points of licence 110114197811271869 are cleared; status DU\n"
      ), "\(passed.stdout)")
    let badDate = try education("2026-13-01", "passed", at: "2026-12-10T10:00:00+08:00")
    #expect(badDate.status == 64)
    #expect(
      badDate.stderr
        == "error: --completed must be a date such as 2026-12-01, not \"2026-13-01\" (see 'roadside help')\n"
    )
    let badExam = try education("2026-12-10", "maybe", at: "2026-12-10T10:00:00+08:00")
    #expect(badExam.status == 64)
    #expect(
      badExam.stderr
        == "error: --exam must be passed or failed, not \"maybe\" (see 'roadside help')\n")
  }
}
