import RoadsideDomain
import Testing

@Suite struct ScoringCycleTests {
  @Test(arguments: [
    ("2015-05-10", "2026-11-22", "2026-05-10", "2027-05-10"),
    ("2015-05-10", "2026-05-10", "2026-05-10", "2027-05-10"),
    ("2015-05-10", "2026-05-09", "2025-05-10", "2026-05-10"),
    ("2015-05-10", "2015-05-10", "2015-05-10", "2016-05-10"),
    ("2020-02-29", "2021-03-01", "2021-02-28", "2022-02-28"),
    ("2020-02-29", "2024-02-29", "2024-02-29", "2025-02-28"),
  ])
  func cycleFromTheFirstIssueDate(_ first: String, _ on: String, _ start: String, _ end: String) {
    let cycle = ScoringCycle.containing(date(on), firstIssued: date(first))
    #expect(cycle.start == date(start))
    #expect(cycle.end == date(end))
    #expect(cycle.contains(date(on)))
    #expect(!cycle.contains(date(end)))
  }
}

@Suite struct PointsLedgerTests {
  let first = date("2015-05-10")

  @Test func pointsAccumulateAndReachingTwelveIsReported() throws {
    var ledger = PointsLedger(firstIssued: first)
    let a = try ledger.record(
      decisionNumber: "D1", offenceCode: "0601", points: 6, decidedOn: date("2026-06-01"),
      finePaid: true)
    #expect(a.before == 0 && a.after == 6 && !a.reachedTwelve)
    let b = try ledger.record(
      decisionNumber: "D2", offenceCode: "0301", points: 3, decidedOn: date("2026-07-01"),
      finePaid: true)
    #expect(!b.reachedTwelve)
    let c = try ledger.record(
      decisionNumber: "D3", offenceCode: "0301", points: 3, decidedOn: date("2026-08-01"),
      finePaid: false)
    #expect(c.after == 12 && c.reachedTwelve)
    let d = try ledger.record(
      decisionNumber: "D4", offenceCode: "0111", points: 1, decidedOn: date("2026-08-02"),
      finePaid: false)
    #expect(d.after == 13 && !d.reachedTwelve)
    #expect(ledger.total(on: date("2026-11-22")) == 13)
  }

  @Test func aDecisionIsRecordedOnce() throws {
    var ledger = PointsLedger(firstIssued: first)
    _ = try ledger.record(
      decisionNumber: "D1", offenceCode: "0601", points: 6, decidedOn: date("2026-06-01"),
      finePaid: true)
    #expect(throws: DomainError(.notPermitted, "decision D1 already has its points recorded")) {
      try ledger.record(
        decisionNumber: "D1", offenceCode: "0601", points: 6, decidedOn: date("2026-06-01"),
        finePaid: true)
    }
    #expect(ledger.total(on: date("2026-06-01")) == 6)
  }

  @Test(arguments: [2, 4, 5, 7, 13, -1])
  func onlyLegalPointValues(_ points: Int) {
    var ledger = PointsLedger(firstIssued: first)
    #expect(throws: DomainError.self) {
      try ledger.record(
        decisionNumber: "X", offenceCode: "0000", points: points, decidedOn: date("2026-06-01"),
        finePaid: true)
    }
  }

  @Test func pointsCountInTheirOwnCycle() throws {
    var ledger = PointsLedger(firstIssued: first)
    _ = try ledger.record(
      decisionNumber: "D1", offenceCode: "0601", points: 6, decidedOn: date("2026-05-09"),
      finePaid: true)
    _ = try ledger.record(
      decisionNumber: "D2", offenceCode: "0301", points: 3, decidedOn: date("2026-05-10"),
      finePaid: true)
    #expect(ledger.total(on: date("2026-05-09")) == 6)
    #expect(ledger.total(on: date("2026-05-10")) == 3)
  }

  @Test func endOfCycleClearsPaidAndCarriesUnpaid() throws {
    var ledger = PointsLedger(firstIssued: first)
    _ = try ledger.record(
      decisionNumber: "PAID", offenceCode: "0601", points: 6, decidedOn: date("2025-12-01"),
      finePaid: true)
    _ = try ledger.record(
      decisionNumber: "UNPAID", offenceCode: "0301", points: 3, decidedOn: date("2026-01-01"),
      finePaid: false)
    let closings = ledger.closeCycles(through: date("2026-05-10"))
    #expect(closings.count == 11)  // 2015-05-10 … 2025-05-10
    let last = try #require(closings.last)
    #expect(last.cycle.start == date("2025-05-10"))
    #expect(last.total == 9 && last.carriedOver == 3 && last.cleared == 6)
    #expect(!last.heldForFullScoreEducation)
    #expect(ledger.total(on: date("2026-05-10")) == 3)
    // Closing again changes nothing.
    #expect(ledger.closeCycles(through: date("2026-05-11")).isEmpty)
    #expect(ledger.total(on: date("2026-05-10")) == 3)
  }

  /// 公安部令第163号 §15: with a fine overdue and unpaid at the cycle's end, the points of
  /// every unpaid fine of the cycle carry; with no overdue fine, everything clears.
  @Test(
    arguments: [
      // (first decision, paid?, second decision, paid?, carried, overdue fine)
      ("2026-01-01", false, "2026-05-01", false, 9, "A"),  // A overdue: A and B (unpaid) carry
      ("2026-01-01", true, "2026-05-01", false, 0, nil),  // B unpaid but not yet overdue: clears
      ("2026-01-01", false, "2026-05-01", true, 6, "A"),  // only the unpaid one carries
      ("2026-04-24", false, "2026-05-01", false, 0, nil),  // pay by 05-09, the last day: not late
      ("2026-04-23", false, "2026-05-01", true, 6, "A"),  // deadline 05-08: overdue on the last day
      ("2026-01-01", true, "2026-02-01", true, 0, nil),  // all paid: clears
    ] as [(String, Bool, String, Bool, Int, String?)])
  func carryOverNeedsAnOverdueFine(
    _ a: String, _ aPaid: Bool, _ b: String, _ bPaid: Bool, _ carried: Int, _ overdue: String?
  ) throws {
    var ledger = PointsLedger(firstIssued: first)
    _ = try ledger.record(
      decisionNumber: "A", offenceCode: "0601", points: 6, decidedOn: date(a), finePaid: aPaid)
    _ = try ledger.record(
      decisionNumber: "B", offenceCode: "0301", points: 3, decidedOn: date(b), finePaid: bPaid)
    let closing = try #require(ledger.closeCycles(through: date("2026-05-10")).last)
    #expect(closing.cycle.lastDay == date("2026-05-09"))
    #expect(closing.carriedOver == carried)
    #expect(closing.overdueFine == overdue)
    #expect(ledger.total(on: date("2026-05-10")) == carried)
  }

  @Test func fullScoreIsReachedOnTheDecisionThatTakesTheTotalToTwelve() throws {
    var ledger = PointsLedger(firstIssued: first)
    _ = try ledger.record(
      decisionNumber: "A", offenceCode: "0601", points: 6, decidedOn: date("2026-02-01"),
      finePaid: true)
    #expect(ledger.fullScoreReached(inCycleOf: date("2026-03-01")) == nil)
    _ = try ledger.record(
      decisionNumber: "B", offenceCode: "0601", points: 6, decidedOn: date("2026-03-01"),
      finePaid: true)
    #expect(ledger.fullScoreReached(inCycleOf: date("2026-03-05")) == date("2026-03-01"))
  }

  @Test func aFullCycleIsHeldUntilEducationAndClearsOnlyWhenFinesArePaid() throws {
    var ledger = PointsLedger(firstIssued: first)
    _ = try ledger.record(
      decisionNumber: "DRINK", offenceCode: "1201", points: 12, decidedOn: date("2026-04-01"),
      finePaid: false)
    let closing = try #require(ledger.closeCycles(through: date("2026-06-01")).last)
    #expect(closing.heldForFullScoreEducation)
    #expect(ledger.total(on: date("2026-06-01")) == 12)
    #expect(
      throws: DomainError(
        .notPermitted,
        "the fine of decision DRINK is unpaid; points clear only when every fine is paid (公安部令第163号 §23)"
      )
    ) {
      try ledger.completeFullScoreEducation(on: date("2026-06-01"))
    }
    try ledger.markFinePaid(decisionNumber: "DRINK")
    try ledger.completeFullScoreEducation(on: date("2026-06-01"))
    #expect(ledger.total(on: date("2026-06-01")) == 0)
  }

  @Test func revokingADecisionRevokesItsPoints() throws {
    var ledger = PointsLedger(firstIssued: first)
    _ = try ledger.record(
      decisionNumber: "D1", offenceCode: "0601", points: 6, decidedOn: date("2026-06-01"),
      finePaid: true)
    _ = try ledger.record(
      decisionNumber: "D2", offenceCode: "0301", points: 3, decidedOn: date("2026-06-02"),
      finePaid: true)
    let revoked = try ledger.revoke(decisionNumber: "D1")
    #expect(revoked.points == 6)
    #expect(ledger.total(on: date("2026-06-03")) == 3)
    #expect(throws: DomainError(.notPermitted, "the points of decision D1 are already revoked")) {
      try ledger.revoke(decisionNumber: "D1")
    }
    #expect(throws: DomainError(.notPermitted, "no points are recorded for decision NOPE")) {
      try ledger.revoke(decisionNumber: "NOPE")
    }
  }

  @Test(
    arguments: [
      // (points held, requests, granted per request)
      (9, [2, 2, 2, 2], [2, 2, 2, nil]),
      (9, [6, 1], [6, nil]),
      (3, [6], [3]),
      (9, [1, 5], [1, 5]),
    ] as [(Int, [Int], [Int?])])
  func studyReducesAtMostSixPerCycle(_ held: Int, _ requests: [Int], _ granted: [Int?]) throws {
    var ledger = PointsLedger(firstIssued: first)
    var remaining = held
    var n = 0
    for value in [6, 3, 1] where remaining >= value {
      while remaining >= value {
        n += 1
        _ = try ledger.record(
          decisionNumber: "D\(n)", offenceCode: "x", points: value, decidedOn: date("2026-06-01"),
          finePaid: true)
        remaining -= value
      }
    }
    for (request, expected) in zip(requests, granted) {
      if let expected {
        #expect(try ledger.reduceByStudy(points: request, on: date("2026-07-01")) == expected)
      } else {
        #expect(throws: DomainError.self) {
          try ledger.reduceByStudy(points: request, on: date("2026-07-01"))
        }
      }
    }
  }

  @Test func studyCannotReduceAtTwelve() throws {
    var ledger = PointsLedger(firstIssued: first)
    _ = try ledger.record(
      decisionNumber: "D1", offenceCode: "1201", points: 12, decidedOn: date("2026-06-01"),
      finePaid: true)
    #expect(
      throws: DomainError(
        .notPermitted,
        "study cannot reduce points once a cycle reaches 12 (公安部令第163号 §25); full-score education applies"
      )
    ) {
      try ledger.reduceByStudy(points: 1, on: date("2026-06-02"))
    }
  }

  @Test(arguments: [
    ([LicenceClass.c1], 1, 12, 7), ([.c1], 2, 24, 14), ([.c1], 1, 36, 21), ([.c1], 9, 12, 60),
    ([.a1], 1, 12, 30), ([.b2, .c1], 2, 12, 60), ([.a2], 5, 12, 120),
  ])
  func fullScoreStudyDays(_ classes: [LicenceClass], _ times: Int, _ points: Int, _ days: Int) {
    #expect(
      PointsLedger.fullScoreStudyDays(classes: classes, timesInCycle: times, points: points) == days
    )
  }
}
