import Foundation
import Testing

/// Stops at the roadside through the built binary: the procedure gate, documents, withholding,
/// refused signatures, number ranges; then central, the bank and reconciliation.
@Suite(.serialized) struct PenaltyCLITests {
  /// A home with central (numbers handed out `perRange` at a time), the bank, and terminal
  /// T-BJ-0001 synced with officer 010001 logged in.
  func world(perRange: Int = 500) throws -> (home: URL, args: [String]) {
    let home = newHome()
    let base = ["--home", home.path, "--now", now]
    let initialised = try roadside(
      ["central", "init", "--numbers-per-range", "\(perRange)"] + base)
    #expect(initialised.status == 0, "\(initialised.stderr)")
    #expect(
      try roadside(["terminal", "init", "--id", "T-BJ-0001", "--central", "local"] + base).status
        == 0)
    let args = ["--terminal", "T-BJ-0001"] + base
    #expect(try roadside(["login", "--officer", "010001"] + args, input: firstLogin).status == 0)
    return (home, args)
  }

  func record(_ args: [String], _ offences: String, fine: String? = nil, extra: [String] = [])
    throws -> Run
  {
    try roadside(
      [
        "record", "--licence", normalLicence, "--plate", "京A12345", "--vehicle", "C2",
        "--offence", offences, "--place", "长安街建国门",
      ] + (fine.map { ["--fine", $0] } ?? []) + extra + args)
  }

  @Test func theTwoHundredYuanBoundary() throws {
    let (_, args) = try world()
    let simple = try record(args, "0906", fine: "200")
    #expect(simple.status == 0, "\(simple.stderr)")
    #expect(
      simple.stdout
        == """
        Decision 110000202600000156: 0906 驾驶与准驾车型不符的机动车 — 罚款 200.00 元，记 9 分; pay by 2026-12-07
        Points in the cycle: 0 → 9 (provisional until central applies them)

        """)
    let general = try record(args, "0312", fine: "501")
    // The notice's 3 points would make 12, but they are recorded only when the unit decides
    // it (公安部令第163号 §13): nothing is withheld at the roadside.
    #expect(
      general.stdout
        == """
        Processing notice 110000202600000157: 0312 驾驶载货汽车载物超过最大允许总质量百分之三十以上未达到百分之五十 — 罚款 501.00 元，记 3 分; report within 15 working days (by 2026-12-11)
        Points in the cycle: 9 → 12 (provisional until central applies them)

        """)
    let outside = try record(args, "0601", fine: "201")
    #expect(outside.status == 65)
    #expect(
      outside.stderr
        == "error: a fine of 201 yuan is outside the legal range for offence 0601: 20–200 yuan (道路交通安全法 第90条)\n"
    )
    let lookup = try roadside(["lookup", normalLicence] + args)
    #expect(
      lookup.stdout.contains(
        "  Points        9 of 12 in cycle 2026-09-30 – 2027-09-29 (9 provisional, not yet synced)\n"
      ))
  }

  @Test func severalOffencesWithholdingAndARefusedSignature() throws {
    let (_, args) = try world()
    let stop = try record(args, "0601,0301,0111", fine: "200,0,50", extra: ["--refused-to-sign"])
    #expect(stop.status == 0, "\(stop.stderr)")
    let lines = stop.stdout.split(separator: "\n")
    #expect(lines.count == 4)
    #expect(
      lines[1].hasSuffix("0301 驾驶机动车有拨打、接听手持电话等妨碍安全驾驶的行为 — 警告 (warning)，记 0 分; pay by 2026-12-07"))
    let show = try roadside(["decision", "show", "110000202600000156"] + args)
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.contains("  Signature     the party refused to sign (noted)\n"))
    #expect(
      show.stdout.contains("\n1. 简易程序处罚决定书 · Electronic penalty decision No. 110000202600000156\n"))
    #expect(
      show.stdout.contains("\n2. 简易程序处罚决定书 · Electronic penalty decision No. 110000202600000157\n"))
    #expect(
      show.stdout.contains("\n3. 简易程序处罚决定书 · Electronic penalty decision No. 110000202600000158\n"))
    #expect(show.stdout.contains("  Penalty       警告 (warning)，记 0 分\n"))
    #expect(
      show.stdout.hasPrefix(
        "道路交通安全违法行为处理文书 · Roadside penalty documents, served together\n  Party         魏英, licence 110114197811271869\n"
      ))
    // Any number of the stop shows the same served document.
    #expect(
      try roadside(["decision", "show", "110000202600000158"] + args).stdout == show.stdout)

    let drunk = try record(args, "1201")
    #expect(drunk.status == 0)
    #expect(
      drunk.stdout.hasSuffix(
        "PAPER LICENCE REQUIRED: offence 1201 carries suspended for 6 months: the licence is withheld until the decision (道路交通安全法 §110; 公安部令第157号 §31(一))\n"
      ))
    #expect(drunk.stdout.hasPrefix("Processing notice 110000202600000159: 1201"))
  }

  @Test func badInputIsRefusedWithNothingRecorded() throws {
    let (_, args) = try world()
    let cases: [([String], Int32, String)] = [
      (
        ["--offence", "0601", "--fine", "200,100"], 64,
        "error: --fine gives 2 fine(s) for 1 offence(s); give one each"
      ),
      (
        ["--offence", "0601", "--fine", "lots"], 64,
        "error: --fine takes whole yuan, 0 or more, such as 200"
      ),
      (
        ["--offence", "0601,0601"], 65,
        "error: offence 0601 is given twice; one stop records each offence once"
      ),
      (
        ["--offence", "0605", "--fine", "0"], 65,
        "error: offence 0605 cannot be dealt with by a warning; the fine must be 200–2000 yuan (道路交通安全法 第99条第1款第4项)"
      ),
    ]
    for (extra, status, message) in cases {
      let run = try roadside(
        [
          "record", "--licence", normalLicence, "--plate", "京A12345", "--vehicle", "C2", "--place",
          "x",
        ]
          + extra + args)
      #expect(run.status == status, "\(extra)")
      #expect(run.stderr.hasPrefix(message), "\(run.stderr)")
    }
    let unknown = try roadside(
      [
        "record", "--licence", "110101199003070000", "--plate", "京A12345", "--vehicle", "C2",
        "--offence", "0601", "--place", "x",
      ] + args)
    #expect(unknown.status == 66 || unknown.status == 65)
    let status = try roadside(["status", "--json"] + args)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
    // Only the first login waits (the audit entries of the attempt that asked for a new
    // PIN, of the login and of the PIN change, and the PIN change's record): no refused stop
    // left anything behind.
    #expect(object["outboxDepth"] as? Int == 4)
  }

  @Test func numbersRunOutWithAWarningAndComeBackAfterSync() throws {
    let (_, args) = try world(perRange: 3)
    #expect(try record(args, "0111").stdout.contains("warning:") == false)
    #expect(
      try record(args, "0105").stdout.hasSuffix(
        "warning: only 1 of 3 document numbers are left; sync soon so central can allocate more\n"))
    #expect(
      try record(args, "0106").stdout.hasSuffix(
        "warning: only 0 of 3 document numbers are left; sync soon so central can allocate more\n"))
    let out = try record(args, "0107")
    #expect(out.status == 65)
    #expect(
      out.stderr
        == "error: terminal T-BJ-0001 has used every document number central allocated to it; sync to receive a new range, nothing was recorded\n"
    )
    #expect(try roadside(["sync"] + args).status == 0)
    _ = try roadside(["login", "--officer", "010001"] + args, input: laterLogin)
    let again = try record(args, "0107")
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stdout.hasPrefix("Decision 110000202600000159: 0107"))
  }

  @Test func decisionsReachCentralTheBankAndReconcile() throws {
    let (home, args) = try world()
    let central = ["--home", home.path, "--now", now]
    _ = try record(args, "0601,0111")
    #expect(try roadside(["sync"] + args).status == 0)
    let deduct = try roadside(["central", "deduct"] + central)
    #expect(
      deduct.stdout
        == "Deductions: 2 settled, 0 failed, 0 unknown (retried next run), 0 cancelled, 0 refunded\n"
    )
    _ = try roadside(["login", "--officer", "010001"] + args, input: laterLogin)
    let void = try roadside(
      ["decision", "void", "110000202600000157", "--reason", "wrong driver"] + args)
    #expect(void.status == 0, "\(void.stderr)")
    let sync = try roadside(["sync"] + args)
    #expect(sync.stdout.contains("1 conflict"))
    #expect(try roadside(["central", "deduct"] + central).stdout.hasSuffix("1 refunded\n"))
    #expect(
      try roadside(["central", "deduct"] + central).stdout.hasPrefix("Deductions: 0 settled"))
    let conflicts = try roadside(["central", "conflicts"] + central)
    #expect(conflicts.stdout.contains("void_after_deduction"))
    let reconcile = try roadside(["central", "reconcile", "--date", "2026-11-22"] + central)
    #expect(
      reconcile.stdout
        == "2026-11-22: central 2 deductions, 1 refunds; bank 2 deductions, 1 refunds\nNo differences\n"
    )
    let badDate = try roadside(["central", "reconcile", "--date", "22/11"] + central)
    #expect(badDate.status == 64)
    #expect(badDate.stderr.hasPrefix("error: --date takes a day as YYYY-MM-DD, not \"22/11\""))
    let pay = try roadside(["central", "pay", "110000202600000156"] + central)
    #expect(pay.status == 65)
    #expect(pay.stderr == "error: the fine of decision 110000202600000156 is already paid\n")
    let unknown = try roadside(["central", "pay", "110000202600009999"] + central)
    #expect(unknown.status == 66)
  }

  @Test func reachingTwelveWithholdsAndThePhoneTurnsRed() throws {
    let (home, args) = try world()
    let central = ["--home", home.path, "--now", now]
    #expect(
      try roadside(["holder", "show", normalLicence] + central).stdout.hasPrefix(
        "┌ 电子驾驶证 · 正常 (black)\n"))
    #expect(try record(args, "0906", fine: "200").status == 0)
    let twelfth = try record(args, "0301", fine: "200")
    // The 12th point is decided on the spot; the withholding comes with its certificate.
    #expect(twelfth.stdout.hasPrefix("Decision 110000202600000157: 0301"))
    #expect(twelfth.stdout.contains("\nCompulsory-measure certificate 110000202600000158: "))
    #expect(
      twelfth.stdout.contains(
        "Points in the cycle: 9 → 12 (provisional until central applies them)\nPAPER LICENCE REQUIRED: this stop brings the cycle to 12 points: the licence is withheld; full-score education is 7 days of study and an exam (公安部令第163号 §17, §18; 公安部令第157号 §31(五))\n"
      ))
    #expect(try roadside(["sync"] + args).status == 0)
    let phone = try roadside(["holder", "show", normalLicence] + central)
    #expect(phone.stdout.hasPrefix("┌ 电子驾驶证 · 异常 (RED)\n"), "\(phone.stdout)")
    #expect(phone.stdout.contains("  Status        BU 超分 扣留\n"), "\(phone.stdout)")
    #expect(phone.stdout.contains("  Points        12\n"), "\(phone.stdout)")
  }
}
