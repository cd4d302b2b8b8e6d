/// What a penalty does to the licence, beyond points.
public enum LicenceMeasure: Sendable, Hashable, Codable {
  case none
  /// 暂扣: suspended for a number of months (e.g. drink-driving, 道路交通安全法 §91: 6 months).
  case suspend(months: Int)
  /// 吊销: revoked (e.g. drunk driving, §91).
  case revoke

  /// Whether the officer must take the paper licence at the roadside (扣留, §110): a
  /// licence to be suspended or revoked is withheld on the spot until the decision.
  public var requiresWithholding: Bool { self != .none }

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
  /// 200 yuan, with no measure against the licence, may be decided on the spot.
  /// Anything else (a higher fine, a licence withheld, suspended or revoked) takes the
  /// general procedure. `licenceWithheld` covers withholding for other reasons, such as
  /// 12 points reached with this stop (公安部令第163号 §17).
  public static func gate(
    fine: Money, isWarning: Bool, measure: LicenceMeasure, licenceWithheld: Bool = false
  ) -> Procedure {
    guard measure == .none, !licenceWithheld else { return .general }
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
///   administrative review or litigation is pending (the execution is paused).
///
/// Holidays do not move the deadline here: the holiday calendar serves the e-licence review,
/// and whether these 15 days run over holidays is a reading not settled yet (README).
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
