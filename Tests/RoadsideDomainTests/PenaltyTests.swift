import RoadsideDomain
import Testing

@Suite struct PenaltyPlannerTests {
  let catalogue = OffenceCatalogue.current

  func plan(_ items: [(String, Int?)], pointsBefore: Int = 0) throws -> StopPlan {
    try PenaltyPlanner.plan(
      items.map { (offence: try catalogue.require($0.0), fineYuan: $0.1) },
      pointsBefore: pointsBefore)
  }

  /// 行政处罚法 §51: 200 yuan is the most a simple procedure fines; 201 takes the general one.
  @Test(arguments: [
    ("0906", 200, Procedure.simple), ("0906", 201, .general), ("0601", 200, .simple),
    ("0601", 20, .simple), ("0301", 0, .simple), ("0602", 1000, .general),
    ("0109", 500, .general),
  ])
  func theProcedureFollowsTheFine(_ code: String, _ yuan: Int, _ procedure: Procedure) throws {
    let stop = try plan([(code, yuan)])
    #expect(stop.charges.map(\.procedure) == [procedure])
    #expect(stop.charges[0].fine == Money(yuan: yuan))
    #expect(!stop.paperLicenceRequired)
  }

  @Test func theCataloguesDefaultAppliesWithoutAFine() throws {
    let stop = try plan([("0111", nil)])
    #expect(stop.charges[0].fine == Money(yuan: 50))
    #expect(stop.charges[0].points == 1)
    #expect(stop.pointsAfter == 1)
  }

  @Test(arguments: [
    (
      "0601", 201,
      "a fine of 201 yuan is outside the legal range for offence 0601: 20–200 yuan ({basis})"
    ),
    (
      "0605", 0,
      "offence 0605 cannot be dealt with by a warning; the fine must be 200–2000 yuan ({basis})"
    ),
    ("1202", 100, "offence 1202 carries no fine ({basis}); do not give --fine"),
  ])
  func finesOutsideTheRangeAreRefused(_ code: String, _ yuan: Int, _ message: String) throws {
    let basis = try catalogue.require(code).fine.basis
    #expect(throws: DomainError(.invalidData, message.replacing("{basis}", with: basis))) {
      try plan([(code, yuan)])
    }
  }

  @Test func aWarningScoresNothing() throws {
    let stop = try plan([("0301", 0)], pointsBefore: 10)
    #expect(stop.charges[0].warning)
    #expect(stop.charges[0].points == 0)
    #expect(stop.pointsAfter == 10)
    #expect(!stop.paperLicenceRequired)
  }

  @Test func drinkDrivingWithholdsTheLicenceAndTakesTheGeneralProcedure() throws {
    let stop = try plan([("1201", nil), ("0111", nil)])
    #expect(stop.paperLicenceRequired)
    #expect(stop.withholding?.basis == "道路交通安全法 §110; 公安部令第157号 §31(一)")
    #expect(stop.withholding?.offence == "1201")
    // Decided separately: the withholding is a compulsory measure and does not take the
    // seat belt off the spot (公安部令第157号 §43).
    #expect(stop.charges.map(\.procedure) == [.general, .simple])
    #expect(stop.pointsAfter == 13)
  }

  /// 公安部令第157号 §31(一)(三)(五), 道路交通安全法 §110: when the paper licence is withheld.
  @Test(arguments: [
    ("1207", 2000, 0, "公安部令第157号 §31(三)"),
    ("0605", 200, 0, "公安部令第157号 §31(三)"),
    ("1203", 2000, 0, "道路交通安全法 §110"),
    ("0111", 50, 11, "公安部令第163号 §17, §18; 公安部令第157号 §31(五)"),
  ])
  func withholdingFollowsTheLaw(_ code: String, _ yuan: Int, _ before: Int, _ basis: String)
    throws
  {
    let stop = try plan([(code, yuan)], pointsBefore: before)
    #expect(stop.withholding?.basis == basis)
    #expect(stop.withholding?.offence == code)
  }

  @Test func reachingTwelveAtThisStopWithholdsTheLicence() throws {
    let stop = try plan([("0601", 200), ("0111", 50)], pointsBefore: 6)
    #expect(stop.pointsAfter == 13)
    #expect(stop.withholding?.basis == "公安部令第163号 §17, §18; 公安部令第157号 §31(五)")
    #expect(
      stop.withholding?.reason.hasSuffix("full-score education is 7 days of study and an exam")
        == true)
    let heavy = try PenaltyPlanner.plan(
      [(offence: try catalogue.require("0601"), fineYuan: 200)], pointsBefore: 6, classes: [.a1])
    #expect(heavy.withholding?.reason.hasSuffix("30 days of study and an exam") == true)
    // The 12th point is still decided on the spot: 扣留 does not force the general procedure
    // (公安部令第157号 §43), and the points are recorded with the decision (163号 §13).
    #expect(stop.charges.allSatisfy { $0.procedure == .simple })
    // A notice's points are recorded only when the unit decides it (163号 §13): a general-
    // procedure offence does not reach 12 at the roadside.
    let noticed = try plan([("0312", 501)], pointsBefore: 9)
    #expect(noticed.pointsAfter == 12)
    #expect(noticed.charges.map(\.procedure) == [.general])
    #expect(!noticed.paperLicenceRequired)
    let mixed = try plan([("0312", 501), ("0111", 50)], pointsBefore: 9)
    #expect(!mixed.paperLicenceRequired)
    let decided = try plan([("0312", 501), ("0111", 50)], pointsBefore: 11)
    #expect(decided.withholding?.offence == "0111")
    // Already at 12 before the stop: nothing new to withhold for.
    let after = try plan([("0111", 50)], pointsBefore: 12)
    #expect(!after.paperLicenceRequired)
    #expect(after.charges[0].procedure == .simple)
  }

  @Test func severalOffencesAreDecidedSeparately() throws {
    let stop = try plan([("0601", 200), ("0301", 0), ("0312", 500)])
    #expect(stop.charges.map(\.offence) == ["0601", "0301", "0312"])
    #expect(stop.charges.map(\.procedure) == [.simple, .simple, .general])
    #expect(stop.pointsAfter == 6 + 0 + 3)
    #expect(
      throws: DomainError(
        .invalidData, "offence 0601 is given twice; one stop records each offence once")
    ) {
      try plan([("0601", 200), ("0601", 100)])
    }
  }

  @Test func documentsRecheckTheirOwnRules() throws {
    let stop = try plan([("0906", 201)])
    let range = NumberRange(terminal: "T-1", region: "110000", year: 2026, first: 1, last: 10)
    let forged = PenaltyDocument(
      kind: .decision, number: range.number(1), stop: "S", terminal: "T-1",
      licence: "110114197811271869", holder: "魏英", plate: "京A12345", vehicleClass: "C1",
      charge: stop.charges[0], at: Timestamp(secondsSinceEpoch: 1_795_140_000), place: "x",
      locationCode: nil, authority: "a", officer: "010001", signature: .signed, note: nil,
      calendar: WorkingCalendar())
    #expect(throws: DomainError.self) { try forged.check(against: try catalogue.require("0906")) }
    #expect(range.contains("110000202600000010"))
    #expect(!range.contains("110000202600000011"))
    #expect(!range.contains("110000202500000001"))
    #expect(forged.payBy == LocalDate(year: 2026, month: 12, day: 5))
  }
}

/// 公安部令第157号 §46(三) with §81②: a notice's 15 days to report are working days.
@Suite struct NoticeDeadlineTests {
  @Test(arguments: [
    // (served, holidays, working weekend days, report by)
    ("2026-11-23", [String](), [String](), "2026-12-14"),  // Monday: three weeks later
    ("2026-11-28", [], [], "2026-12-18"),  // Saturday: counted from the next Monday
    (
      "2026-09-28", ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"],
      ["2026-10-10"], "2026-10-23"
    ),  // National Day holidays not counted, 调休 Saturday counted
  ])
  func reportByCountsWorkingDays(
    _ served: String, _ holidays: [String], _ workdays: [String], _ expected: String
  ) {
    let calendar = WorkingCalendar(
      holidays: Set(holidays.map(date)), workingWeekendDays: Set(workdays.map(date)))
    #expect(Notice.reportBy(servedOn: date(served), calendar: calendar) == date(expected))
  }

  /// 行政处罚法 §67: the 15 days to pay are calendar days, holidays or not.
  @Test func paymentStaysFifteenCalendarDays() {
    #expect(Payment.deadline(servedOn: date("2026-09-28")) == date("2026-10-13"))
  }
}
