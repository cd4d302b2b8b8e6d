/// A calendar date with no time zone: a licence's first-issue date, a validity end, a
/// scoring cycle's bounds. Dates of the domain are dates in China Standard Time (UTC+8,
/// no daylight saving), which is what every document of the traffic police shows.
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  public let year: Int
  public let month: Int
  public let day: Int

  /// A valid proleptic Gregorian date between the years 1900 and 9999, or `nil`.
  public init?(year: Int, month: Int, day: Int) {
    guard (1900...9999).contains(year), (1...12).contains(month),
      (1...LocalDate.daysIn(month: month, year: year)).contains(day)
    else { return nil }
    self.year = year
    self.month = month
    self.day = day
  }

  /// The date `daysSinceEpoch` days after 1970-01-01.
  public init(daysSinceEpoch: Int) {
    // Howard Hinnant's civil_from_days.
    let z = daysSinceEpoch + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
    self.month = m
    self.day = d
  }

  /// Days since 1970-01-01 (negative before).
  public var daysSinceEpoch: Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  public static func isLeap(_ year: Int) -> Bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
  }

  public static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  public func adding(days: Int) -> LocalDate { LocalDate(daysSinceEpoch: daysSinceEpoch + days) }

  /// The same day `years` years later; 29 February becomes 28 February in a common year.
  public func adding(years: Int) -> LocalDate {
    let y = year + years
    return LocalDate(year: y, month: month, day: min(day, LocalDate.daysIn(month: month, year: y)))!
  }

  /// The same day `months` months later, clamped to the last day of a shorter month.
  public func adding(months: Int) -> LocalDate {
    let index = year * 12 + (month - 1) + months
    let y = index / 12
    let m = index % 12 + 1
    return LocalDate(year: y, month: m, day: min(day, LocalDate.daysIn(month: m, year: y)))!
  }

  /// Days from `self` to `other` (positive when `other` is later).
  public func days(until other: LocalDate) -> Int { other.daysSinceEpoch - daysSinceEpoch }

  /// ISO weekday: 1 Monday … 7 Sunday.
  public var weekday: Int { ((daysSinceEpoch % 7) + 7 + 3) % 7 + 1 }

  public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
    (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
  }

  /// `YYYY-MM-DD`.
  public var description: String {
    "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
  }

  /// Parses `YYYY-MM-DD`.
  public init?(iso text: some StringProtocol) {
    let bytes = Array(text.utf8)
    guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
      let y = digits(bytes[0..<4]), let m = digits(bytes[5..<7]), let d = digits(bytes[8..<10])
    else { return nil }
    self.init(year: y, month: m, day: d)
  }

  /// Parses `YYYYMMDD` (as in a citizen ID number).
  public init?(compact bytes: ArraySlice<UInt8>) {
    guard bytes.count == 8, let y = digits(bytes.prefix(4)),
      let m = digits(bytes.dropFirst(4).prefix(2)), let d = digits(bytes.suffix(2))
    else { return nil }
    self.init(year: y, month: m, day: d)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let date = LocalDate(iso: text) else {
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "expected a date as YYYY-MM-DD, got \"\(text)\"")
    }
    self = date
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

/// A point in time, to the second, as seconds since 1970-01-01T00:00:00Z.
///
/// The domain never reads the clock: a `Timestamp` always comes from a ``Clock`` passed in.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  public let secondsSinceEpoch: Int64

  /// China Standard Time is UTC+8 all year (no daylight saving since 1991).
  public static let chinaOffsetSeconds: Int64 = 8 * 3600

  public init(secondsSinceEpoch: Int64) { self.secondsSinceEpoch = secondsSinceEpoch }

  /// The first second of `date` in China Standard Time.
  public init(startOf date: LocalDate) {
    self.secondsSinceEpoch = Int64(date.daysSinceEpoch) * 86_400 - Timestamp.chinaOffsetSeconds
  }

  /// The calendar date in China Standard Time.
  public var chinaDate: LocalDate {
    let local = secondsSinceEpoch + Timestamp.chinaOffsetSeconds
    return LocalDate(daysSinceEpoch: Int(local.floorDiv(86_400)))
  }

  public func adding(seconds: Int64) -> Timestamp {
    Timestamp(secondsSinceEpoch: secondsSinceEpoch + seconds)
  }

  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    lhs.secondsSinceEpoch < rhs.secondsSinceEpoch
  }

  /// ISO 8601 in China Standard Time: `2026-11-22T09:30:00+08:00`.
  public var description: String {
    let local = secondsSinceEpoch + Timestamp.chinaOffsetSeconds
    let date = LocalDate(daysSinceEpoch: Int(local.floorDiv(86_400)))
    let second = Int(local - local.floorDiv(86_400) * 86_400)
    return
      "\(date)T\(pad(second / 3600, 2)):\(pad(second / 60 % 60, 2)):\(pad(second % 60, 2))+08:00"
  }

  /// Parses ISO 8601: `YYYY-MM-DD` (midnight, China Standard Time) or
  /// `YYYY-MM-DDTHH:MM[:SS[.fraction]]` followed by `Z`, `±HH:MM`, `±HHMM` or nothing
  /// (China Standard Time). Fractions of a second are dropped.
  public init?(iso text: some StringProtocol) {
    let bytes = Array(text.utf8)
    guard bytes.count >= 10,
      let date = LocalDate(iso: String(decoding: bytes[0..<10], as: UTF8.self))
    else { return nil }
    if bytes.count == 10 {
      self.init(startOf: date)
      return
    }
    guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), bytes.count >= 16,
      let hour = digits(bytes[11..<13]), bytes[13] == UInt8(ascii: ":"),
      let minute = digits(bytes[14..<16]), hour < 24, minute < 60
    else { return nil }
    var index = 16
    var second = 0
    if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
      guard bytes.count >= index + 3, let s = digits(bytes[(index + 1)..<(index + 3)]), s < 60
      else { return nil }
      second = s
      index += 3
      if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",")
      {
        index += 1
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
          index += 1
        }
        guard index > start else { return nil }
      }
    }
    var offset = Timestamp.chinaOffsetSeconds
    if index < bytes.count {
      let zone = bytes[index...]
      if zone.count == 1, zone.first == UInt8(ascii: "Z") {
        offset = 0
      } else if let sign = zone.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
        let rest = Array(zone.dropFirst().filter { $0 != UInt8(ascii: ":") })
        guard rest.count == 4, zone.count == 5 || (zone.count == 6 && zone[index + 3] == 58),
          let h = digits(rest[0..<2]), let m = digits(rest[2..<4]), h < 24, m < 60
        else { return nil }
        offset = Int64(h * 3600 + m * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
      } else {
        return nil
      }
    }
    let local = Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    self.init(secondsSinceEpoch: local - offset)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let value = Timestamp(iso: text) else {
      throw DecodingError.dataCorruptedError(
        in: container,
        debugDescription:
          "expected an ISO 8601 time such as 2026-11-22T09:30:00+08:00, got \"\(text)\""
      )
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

extension Int64 {
  fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
    let q = self / divisor
    return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
  }
}

func pad(_ value: Int, _ width: Int) -> String {
  let text = String(value)
  return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

func digits(_ bytes: some Collection<UInt8>) -> Int? {
  guard !bytes.isEmpty else { return nil }
  var value = 0
  for byte in bytes {
    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
    value = value * 10 + Int(byte - UInt8(ascii: "0"))
  }
  return value
}
