import RoadsideDomain
import Testing

@Suite struct TimeTests {
  @Test(arguments: [
    ("1970-01-01", 0), ("2000-02-29", 11_016), ("2026-11-22", 20_779), ("1949-10-01", -7_397),
  ])
  func daysSinceEpochRoundTrip(_ text: String, _ days: Int) throws {
    let date = try #require(LocalDate(iso: text))
    #expect(date.daysSinceEpoch == days)
    #expect(LocalDate(daysSinceEpoch: days) == date)
    #expect(date.description == text)
  }

  @Test(arguments: [
    "2026-02-29", "2026-13-01", "2026-00-10", "26-01-01", "2026/01/01", "1899-12-31",
  ])
  func rejectsInvalidDates(_ text: String) { #expect(LocalDate(iso: text) == nil) }

  @Test(arguments: [
    ("2026-11-22T09:30:00+08:00", Int64(1_795_311_000)),
    ("2026-11-22T01:30:00Z", 1_795_311_000),
    ("2026-11-22T01:30:00.750Z", 1_795_311_000),
    ("2026-11-22T09:30:00", 1_795_311_000),
    ("2026-11-22T09:30+08:00", 1_795_311_000),
    ("2026-11-21T20:30:00-0500", 1_795_311_000),
    ("2026-11-22", 1_795_276_800),
  ])
  func parsesISO8601(_ text: String, _ seconds: Int64) throws {
    #expect(Timestamp(iso: text)?.secondsSinceEpoch == seconds)
  }

  @Test(arguments: [
    "2026-11-22T25:00:00Z", "2026-11-22T09:30:00+8", "yesterday", "2026-11-22T09:30:00Q", "",
  ])
  func rejectsMalformedTimes(_ text: String) { #expect(Timestamp(iso: text) == nil) }

  @Test func printsChinaStandardTimeAndDate() {
    let t = Timestamp(secondsSinceEpoch: 1_795_366_800)  // 2026-11-22T17:00:00Z
    #expect(t.description == "2026-11-23T01:00:00+08:00")
    #expect(t.chinaDate == LocalDate(year: 2026, month: 11, day: 23))
    #expect(
      Timestamp(startOf: LocalDate(year: 2026, month: 11, day: 23)!).description
        == "2026-11-23T00:00:00+08:00")
  }

  @Test func addingYearsClampsTheLeapDay() {
    let leap = LocalDate(year: 2024, month: 2, day: 29)!
    #expect(leap.adding(years: 1) == LocalDate(year: 2025, month: 2, day: 28))
    #expect(leap.adding(years: 4) == LocalDate(year: 2028, month: 2, day: 29))
  }

  @Test func weekday() {
    #expect(LocalDate(year: 2026, month: 11, day: 22)!.weekday == 7)  // Sunday
    #expect(LocalDate(year: 1970, month: 1, day: 1)!.weekday == 4)  // Thursday
  }

  @Test func seededRandomIsReproducible() {
    var a = SeededRandom(seed: 42)
    var b = SeededRandom(seed: 42)
    let first = (0..<5).map { _ in a.next() }
    #expect(first == (0..<5).map { _ in b.next() })
    var c = SeededRandom(seed: 43)
    #expect(first != (0..<5).map { _ in c.next() })
    var d = SeededRandom(seed: 7)
    for _ in 0..<1000 { #expect((3...9).contains(d.int(in: 3...9))) }
  }
}

@Suite struct WorkingCalendarTests {
  // 2026-10-01 … 10-07 National Day, 09-20 (Sunday) and 10-10 (Saturday) worked.
  let calendar = WorkingCalendar(
    holidays: Set((1...7).map { LocalDate(year: 2026, month: 10, day: $0)! }),
    workingWeekendDays: [LocalDate(iso: "2026-09-20")!, LocalDate(iso: "2026-10-10")!])

  @Test(arguments: [
    ("2026-11-20", true), ("2026-11-21", false), ("2026-11-22", false), ("2026-10-01", false),
    ("2026-10-10", true), ("2026-09-20", true), ("2026-10-09", true),
  ])
  func workingDays(_ date: String, _ working: Bool) {
    #expect(calendar.isWorkingDay(LocalDate(iso: date)!) == working)
  }

  @Test(arguments: [
    // (applied, review completes)
    ("2026-11-19T10:00:00+08:00", "2026-11-20T10:00:00+08:00"),  // Thursday → Friday
    ("2026-11-20T10:00:00+08:00", "2026-11-23T10:00:00+08:00"),  // Friday → Monday
    ("2026-11-21T10:00:00+08:00", "2026-11-24T00:00:00+08:00"),  // Saturday → after Monday
    ("2026-09-30T16:00:00+08:00", "2026-10-08T16:00:00+08:00"),  // over National Day
    ("2026-10-03T09:00:00+08:00", "2026-10-09T00:00:00+08:00"),  // in the holiday → after 10-08
  ])
  func reviewTakesOneWorkingDay(_ applied: String, _ ready: String) {
    #expect(calendar.oneWorkingDayAfter(Timestamp(iso: applied)!) == Timestamp(iso: ready)!)
  }
}
