/// What a penalty does to the licence, beyond points.
public enum LicenceMeasure: Sendable, Hashable, Codable {
  case none
  /// 暂扣: suspended for a number of months (e.g. drink-driving, 道路交通安全法 §91: 6 months).
  case suspend(months: Int)
  /// 吊销: revoked (e.g. drunk driving, §91).
  case revoke

  /// Whether the officer must take the paper licence at the roadside (扣留, 道路交通安全法
  /// §110; 公安部令第157号 §31): a licence to be suspended or revoked is withheld on the spot
  /// until the decision.
  public var requiresWithholding: Bool { self != .none }

  /// Parses `none`, `revoke` or `suspend:MONTHS` (1–24), as the CLI and scenarios write it.
  public init(parsing text: String) throws(DomainError) {
    let lower = text.lowercased()
    switch lower {
    case "none": self = .none
    case "revoke": self = .revoke
    default:
      let parts = lower.split(separator: ":")
      guard parts.count == 2, parts[0] == "suspend", let months = Int(parts[1]),
        (1...24).contains(months)
      else {
        throw .invalid("a measure is suspend:MONTHS (1–24), revoke or none, not \"\(text)\"")
      }
      self = .suspend(months: months)
    }
  }

  public var english: String {
    switch self {
    case .none: "none"
    case .suspend(let months): "suspended for \(months) months"
    case .revoke: "revoked"
    }
  }

  public var chinese: String {
    switch self {
    case .none: "无"
    case .suspend(let months): "暂扣\(months)个月"
    case .revoke: "吊销"
    }
  }
}

/// Simple procedure (简易程序): one officer decides on the spot. General procedure (一般程序):
/// the terminal issues a processing notice and the case is decided later.
public enum Procedure: String, Sendable, Codable {
  case simple
  case general

  /// The rule of 行政处罚法 §51 and 公安部令第157号 §43: a warning, or a fine of at most
  /// 200 yuan, with no suspension or revocation of the licence, may be decided on the spot;
  /// a higher fine, a suspension (暂扣) or a revocation (吊销) takes the general procedure.
  ///
  /// Withholding the paper licence (扣留) is not part of the gate: it is a compulsory
  /// measure with its own certificate (157号 §24, §25, §31), not a penalty, and does not by
  /// itself force the general procedure (157号 §43 names only fines, 暂扣 and 吊销). A stop
  /// that brings the cycle to 12 points is therefore still decided on the spot when its fine
  /// allows it, and its points are recorded with the decision (公安部令第163号 §13).
  public static func gate(fine: Money, isWarning: Bool, measure: LicenceMeasure) -> Procedure {
    guard measure == .none else { return .general }
    if isWarning { return .simple }
    return fine <= Money(yuan: simpleProcedureFineLimitYuan) ? .simple : .general
  }

  /// The largest fine a simple procedure may impose on a person (行政处罚法 §51).
  public static let simpleProcedureFineLimitYuan = 200
}

/// When a fine is due and what a late payment costs.
///
/// - Pay within 15 days of service (道路交通安全法 §108, 行政处罚法 §67): the deadline is
///   the 15th day after the day of service (the day of service itself is not counted).
/// - Late: a surcharge of 3 % of the fine for each day after the deadline, never more
///   than the fine itself (行政处罚法 §72), not counted for days during which
///   administrative review or litigation is pending (行政处罚法 §73).
///
/// These 15 days are calendar days: 行政处罚法 §67 sets them, and the working-day rule of
/// 公安部令第157号 §81 governs the periods of that regulation only (the notice's reporting
/// deadline, ``Notice``).
public enum Payment {
  public static let daysToPay = 15
  public static let surchargePercentPerDay: Int64 = 3

  /// The last day on which the fine can be paid without surcharge.
  public static func deadline(servedOn: LocalDate) -> LocalDate {
    servedOn.adding(days: daysToPay)
  }

  /// Days late on `date`, not counting paused days (each range inclusive).
  public static func daysLate(
    servedOn: LocalDate, on date: LocalDate, paused: [ClosedRange<LocalDate>] = []
  ) -> Int {
    let deadline = deadline(servedOn: servedOn)
    guard date > deadline else { return 0 }
    var late = 0
    var day = deadline.adding(days: 1)
    while day <= date {
      if !paused.contains(where: { $0.contains(day) }) { late += 1 }
      day = day.adding(days: 1)
    }
    return late
  }

  /// The surcharge (加处罚款) due on `date`.
  public static func surcharge(
    fine: Money, servedOn: LocalDate, on date: LocalDate, paused: [ClosedRange<LocalDate>] = []
  ) -> Money {
    let days = Int64(daysLate(servedOn: servedOn, on: date, paused: paused))
    let raw = fine.fen * surchargePercentPerDay * days / 100
    return Money(fen: min(raw, fine.fen))
  }

  /// Fine plus surcharge: what a deduction on `date` takes.
  public static func amountDue(
    fine: Money, servedOn: LocalDate, on date: LocalDate, paused: [ClosedRange<LocalDate>] = []
  ) -> Money {
    fine + surcharge(fine: fine, servedOn: servedOn, on: date, paused: paused)
  }
}

/// The reporting deadline of a processing notice or a compulsory-measure certificate: the
/// driver reports to the unit "within 15 days" (公安部令第157号 §46(三), §25(三)), and that
/// regulation's "十五日" are working days, holidays not counted (157号 §81②).
public enum Notice {
  public static let workingDaysToReport = 15

  /// The 15th working day after the day of service (the day of service is not counted).
  public static func reportBy(servedOn: LocalDate, calendar: WorkingCalendar) -> LocalDate {
    var day = servedOn
    for _ in 0..<workingDaysToReport { day = calendar.nextWorkingDay(after: day) }
    return day
  }
}

/// What the officer must do at a check, from what the licence record says.
public enum CheckInstructions {
  /// Instructions, each a sentence with its article:
  /// - a licence at 12 points (or status B) is withheld (公安部令第157号 §31(五));
  /// - a licence whose use is stopped (停止使用, J) is withheld (交通警察道路执勤执法工作规范
  ///   附件5 八);
  /// - classes the holder is too old to drive are named (公安部令第162号 §65).
  public static func instructions(
    status: LicenceStatus, points: Int, classes: [LicenceClass], birthDate: LocalDate,
    on date: LocalDate
  ) -> [String] {
    var lines: [String] = []
    if (points >= PointsLedger.fullScore || status.contains(.pointsFull))
      && !status.contains(.withheld)
    {
      lines.append(
        "withhold the paper licence: the cycle has reached 12 points (公安部令第157号 §31(五)); issue the compulsory-measure certificate"
      )
    }
    if status.contains(.stoppedUse) {
      lines.append(
        "withhold the paper licence: its use is stopped (停止使用, status J; 交通警察道路执勤执法工作规范 附件5)"
      )
    }
    let tooOld = classes.filter { !$0.ageAllows(birthDate: birthDate, on: date) }
    if !tooOld.isEmpty {
      lines.append(
        "the holder may no longer drive \(tooOld.map(\.rawValue).joined(separator: " ")) by age (公安部令第162号 §65); any other class held remains valid"
      )
    }
    return lines
  }
}
