/// Which days are working days: Monday to Friday, except public holidays, plus the
/// weekend days worked in exchange for a longer holiday (调休). The data comes from the
/// holiday calendar in the fixtures; this type only applies it.
public struct WorkingCalendar: Sendable, Hashable, Codable {
  public let holidays: Set<LocalDate>
  public let workingWeekendDays: Set<LocalDate>

  public init(holidays: Set<LocalDate> = [], workingWeekendDays: Set<LocalDate> = []) {
    self.holidays = holidays
    self.workingWeekendDays = workingWeekendDays
  }

  public func isWorkingDay(_ date: LocalDate) -> Bool {
    if holidays.contains(date) { return false }
    if workingWeekendDays.contains(date) { return true }
    return date.weekday <= 5
  }

  /// The first working day strictly after `date`.
  public func nextWorkingDay(after date: LocalDate) -> LocalDate {
    var day = date.adding(days: 1)
    while !isWorkingDay(day) { day = day.adding(days: 1) }
    return day
  }

  /// When a review that takes one working day completes (公安部令第162号 §61 e-licence
  /// review, as Roadside times it): an application made on a working day completes at the
  /// same time of day on the next working day; one made on a weekend or holiday completes
  /// at the start of the day after the first working day that follows.
  public func oneWorkingDayAfter(_ time: Timestamp) -> Timestamp {
    let date = time.chinaDate
    if isWorkingDay(date) {
      let timeOfDay = time.secondsSinceEpoch - Timestamp(startOf: date).secondsSinceEpoch
      return Timestamp(startOf: nextWorkingDay(after: date)).adding(seconds: timeOfDay)
    }
    let firstWorkingDay = nextWorkingDay(after: date)
    return Timestamp(startOf: firstWorkingDay.adding(days: 1))
  }

  enum CodingKeys: String, CodingKey { case holidays, workingWeekendDays }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    holidays = Set(try c.decode([LocalDate].self, forKey: .holidays))
    workingWeekendDays = Set(try c.decode([LocalDate].self, forKey: .workingWeekendDays))
  }

  /// Sorted, so that the same calendar always encodes to the same bytes.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(holidays.sorted(), forKey: .holidays)
    try c.encode(workingWeekendDays.sorted(), forKey: .workingWeekendDays)
  }
}
