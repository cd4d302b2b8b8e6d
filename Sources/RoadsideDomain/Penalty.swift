/// The serials central hands a terminal for numbering the documents it issues offline
/// (penalty decisions and processing notices share one sequence). A document number is 18
/// digits: the authority's 6-digit region code, the year, and the 8-digit serial — the
/// format of the decisions in the fixtures.
public struct NumberRange: Sendable, Hashable, Codable {
  public let terminal: String
  public let region: String
  public let year: Int
  public let first: Int
  public let last: Int

  public init(terminal: String, region: String, year: Int, first: Int, last: Int) {
    self.terminal = terminal
    self.region = region
    self.year = year
    self.first = first
    self.last = last
  }

  public var size: Int { last - first + 1 }

  /// The document number of `serial`.
  public func number(_ serial: Int) -> String {
    region + String(year) + pad(serial, 8)
  }

  /// Whether `number` is one of this range's.
  public func contains(_ number: String) -> Bool {
    guard number.utf8.count == 18, number.hasPrefix(region + String(year)),
      let serial = Int(number.suffix(8))
    else { return false }
    return (first...last).contains(serial)
  }

  /// A terminal warns, and central allocates more, when at most this share of the numbers
  /// allocated is left (and always when one is left).
  public static let lowStockShare = 0.2

  public static func isLow(left: Int, allocated: Int) -> Bool {
    left <= max(1, Int(Double(allocated) * lowStockShare))
  }
  /// Serials central hands out at a time.
  public static let standardSize = 500
}

/// Why the paper licence must be taken at the roadside (扣留): a compulsory measure, served
/// with its own certificate (强制措施凭证, 公安部令第157号 §25, §26), not a penalty.
public struct Withholding: Sendable, Hashable, Codable {
  public let reason: String
  public let basis: String
  /// The offence of the stop that occasions it (the certificate states its facts).
  public let offence: String?

  public init(reason: String, basis: String, offence: String? = nil) {
    self.reason = reason
    self.basis = basis
    self.offence = offence
  }
}

/// One offence as charged at a stop: the officer's fine (or warning) checked against the
/// law's range, its points, the procedure it takes.
public struct Charge: Sendable, Hashable, Codable {
  public let offence: String
  public let chinese: String
  public let english: String
  public let fine: Money
  public let warning: Bool
  public let points: Int
  public let measure: LicenceMeasure
  /// The legal basis, as the decision states it.
  public let basis: String
  public let procedure: Procedure

  public init(
    offence: String, chinese: String, english: String, fine: Money, warning: Bool, points: Int,
    measure: LicenceMeasure, basis: String, procedure: Procedure
  ) {
    self.offence = offence
    self.chinese = chinese
    self.english = english
    self.fine = fine
    self.warning = warning
    self.points = points
    self.measure = measure
    self.basis = basis
    self.procedure = procedure
  }
}

/// What a stop comes to before anything is written: each offence decided separately
/// (公安部令第157号 §44: several offences at one stop are decided separately and served
/// together), the points before and after, and whether the paper licence is withheld.
public struct StopPlan: Sendable, Hashable {
  public let charges: [Charge]
  public let pointsBefore: Int
  public let pointsAfter: Int
  public let withholding: Withholding?

  public var paperLicenceRequired: Bool { withholding != nil }
}

/// The procedure gate at work on a whole stop.
public enum PenaltyPlanner {
  /// Plans a stop: `offences` with the officer's fine in yuan (nil: the catalogue's default;
  /// 0: a warning where the law allows one), against the points the licence has in the
  /// current cycle. Rules:
  /// - a fine outside the offence's legal range is refused (the article the offence cites);
  ///   so is the same offence twice at one stop;
  /// - each offence takes the simple procedure as a warning or a fine of at most 200 yuan
  ///   without suspension or revocation (行政处罚法 §51, 公安部令第157号 §43); otherwise the
  ///   general procedure, and the terminal issues a processing notice;
  /// - the paper licence is withheld at the roadside (扣留, a compulsory measure with its own
  ///   certificate) when an offence carries suspension or revocation (道路交通安全法 §110;
  ///   drink-driving 157号 §31(一)), when the offence itself calls for it (50 % or more over
  ///   the limit, 157号 §31(三)), or when the stop's on-the-spot decisions bring the cycle to
  ///   12 points (公安部令第163号 §17, 157号 §31(五); a notice's points are recorded only
  ///   when the unit decides it, 163号 §13). Withholding does not change any offence's procedure
  ///   (157号 §43): an offence the simple procedure allows is still decided on the spot, and
  ///   its points are recorded with that decision (163号 §13).
  public static func plan(
    _ offences: [(offence: Offence, fineYuan: Int?)], pointsBefore: Int,
    classes: [LicenceClass] = []
  ) throws(DomainError) -> StopPlan {
    guard !offences.isEmpty else { throw .invalid("a stop needs at least one offence") }
    var seen: Set<String> = []
    for item in offences where !seen.insert(item.offence.code).inserted {
      throw .invalid(
        "offence \(item.offence.code) is given twice; one stop records each offence once")
    }
    var drafts: [(Offence, Money, Bool)] = []
    for (offence, fineYuan) in offences {
      let yuan = fineYuan ?? offence.fine.defaultYuan
      try offence.fine.check(yuan, offence: offence.code)
      let warning = offence.fine.isWarning(yuan)
      drafts.append((offence, Money(yuan: yuan), warning))
    }
    let added = drafts.reduce(0) { $0 + ($1.2 ? 0 : $1.0.points) }
    let after = pointsBefore + added
    // Points count when a decision records them (163号 §13): only this stop's on-the-spot
    // decisions can bring the cycle to 12 here; a notice's points wait for the unit.
    let decidedHere = drafts.filter {
      !$0.2
        && Procedure.gate(fine: $0.1, isWarning: $0.2, measure: $0.0.measure) == .simple
    }
    let recordedAfter = pointsBefore + decidedHere.reduce(0) { $0 + $1.0.points }
    var withholding: Withholding?
    if let cause = drafts.first(where: {
      $0.0.measure.requiresWithholding || $0.0.roadsideWithholding != nil
    })?.0 {
      // The measure the offence carries (道路交通安全法 §110) and the article of 157号 §31
      // that names the offence, whichever apply.
      let basis = [
        cause.measure.requiresWithholding ? "道路交通安全法 §110" : nil, cause.roadsideWithholding,
      ].compactMap { $0 }.joined(separator: "; ")
      withholding = Withholding(
        reason: cause.measure.requiresWithholding
          ? "offence \(cause.code) carries \(cause.measure.english): the licence is withheld until the decision"
          : "offence \(cause.code) (\(cause.english)) calls for withholding the licence until the decision",
        basis: basis, offence: cause.code)
    } else if pointsBefore < PointsLedger.fullScore, recordedAfter >= PointsLedger.fullScore {
      let days = PointsLedger.fullScoreStudyDays(
        classes: classes, timesInCycle: 1, points: recordedAfter)
      withholding = Withholding(
        reason:
          "this stop brings the cycle to \(recordedAfter) points: the licence is withheld; full-score education is \(days) days of study and an exam",
        basis: "公安部令第163号 §17, §18; 公安部令第157号 §31(五)",
        offence: decidedHere.last(where: { $0.0.points > 0 })?.0.code)
    }
    let charges = drafts.map { offence, fine, warning in
      Charge(
        offence: offence.code, chinese: offence.chinese, english: offence.english, fine: fine,
        warning: warning, points: warning ? 0 : offence.points, measure: offence.measure,
        basis: "\(offence.fine.basis); points: \(offence.pointsBasis)",
        procedure: Procedure.gate(fine: fine, isWarning: warning, measure: offence.measure))
    }
    return StopPlan(
      charges: charges, pointsBefore: pointsBefore, pointsAfter: after, withholding: withholding)
  }
}

/// One document issued for one offence: an electronic penalty decision (simple procedure on
/// the spot, or the general procedure's decision at the unit), a processing notice (general
/// procedure), or the certificate of the compulsory measure of withholding the paper licence.
/// Carries every field 公安部令第157号 requires of them (§45 a decision on the spot, §49 a
/// decision at the unit, §47 a notice, §26 a certificate): the facts, the legal basis, the
/// penalty (fine, points, measure), vehicle and plate, the time and place, the authority and
/// the officer, the payment or reporting deadline, and the driver's signature or the note that
/// they refused to sign (§44(四), §46(四), §25(四)).
public struct PenaltyDocument: Sendable, Hashable, Codable {
  public let kind: DocumentKind
  public let number: String
  /// The stop it was served with (documents of one stop are served together).
  public let stop: String
  public let terminal: String
  public let licence: String
  public let holder: String
  public let plate: String
  public let vehicleClass: String
  public let charge: Charge
  public let at: Timestamp
  public let place: String
  public let locationCode: String?
  public let authority: String
  public let officer: String
  /// A ``PartySignature``'s raw value, kept as text in the signed document so that central's
  /// re-check names a document that carries neither (read it as ``partySignature``).
  public let signature: String

  public var partySignature: PartySignature? { PartySignature(rawValue: signature) }
  public let note: String?
  /// Set on every document of a stop at which the paper licence was withheld.
  public let withholding: Withholding?
  /// The last day to pay without surcharge (decisions only).
  public let payBy: LocalDate?
  /// The last day to report to the traffic police unit (notices and certificates): 15
  /// working days (``Notice``).
  public let reportBy: LocalDate?

  public init(
    kind: DocumentKind, number: String, stop: String, terminal: String, licence: String,
    holder: String, plate: String, vehicleClass: String, charge: Charge, at: Timestamp,
    place: String, locationCode: String?, authority: String, officer: String,
    signature: PartySignature, note: String?, withholding: Withholding? = nil,
    calendar: WorkingCalendar
  ) {
    self.kind = kind
    self.number = number
    self.stop = stop
    self.terminal = terminal
    self.licence = licence
    self.holder = holder
    self.plate = plate
    self.vehicleClass = vehicleClass
    self.charge = charge
    self.at = at
    self.place = place
    self.locationCode = locationCode
    self.authority = authority
    self.officer = officer
    self.signature = signature.rawValue
    self.note = note
    self.withholding = withholding
    let served = at.chinaDate
    self.payBy = kind == .decision ? Payment.deadline(servedOn: served) : nil
    self.reportBy =
      kind == .decision
      ? nil : Notice.reportBy(servedOn: served, calendar: calendar)
  }

  /// The facts as the document states them.
  public var facts: String {
    "\(at.description) 在\(place)，驾驶\(vehicleClass)车辆 \(plate)：\(charge.chinese)（\(charge.english)）"
  }

  /// The penalty as the document states it (for a certificate: the measure taken).
  public var penalty: String {
    if kind == .certificate { return "扣留机动车驾驶证 (paper licence withheld)" }
    let fine = charge.warning ? "警告 (warning)" : "罚款 \(charge.fine.yuanText)"
    let measure = charge.measure == .none ? "" : "，\(charge.measure.chinese)"
    return "\(fine)，记 \(charge.points) 分\(measure)"
  }

  /// Checks the rules a decision must meet whoever made it: central re-runs this on what
  /// terminals submit. A decision must take the simple procedure; the fine must lie in the
  /// offence's legal range and the points must be the catalogue's.
  public func check(against offence: Offence) throws(DomainError) {
    guard offence.code == charge.offence else {
      throw .invalid("document \(number) is for offence \(charge.offence), not \(offence.code)")
    }
    if kind == .certificate, withholding == nil {
      throw .invalid("certificate \(number) states no compulsory measure")
    }
    let yuan = charge.warning ? 0 : Int(charge.fine.fen / 100)
    guard charge.warning || charge.fine.fen % 100 == 0 else {
      throw .invalid("document \(number) has a fine that is not a whole number of yuan")
    }
    try offence.fine.check(yuan, offence: offence.code)
    guard charge.points == (charge.warning ? 0 : offence.points) else {
      throw .invalid(
        "document \(number) gives \(charge.points) points for offence \(offence.code), which scores \(offence.points)"
      )
    }
    guard partySignature != nil else {
      throw .invalid("document \(number) has neither the driver's signature nor a refusal note")
    }
    if kind == .decision {
      switch charge.procedure {
      case .simple:
        let gate = Procedure.gate(
          fine: charge.fine, isWarning: charge.warning, measure: offence.measure)
        guard gate == .simple, charge.measure == offence.measure else {
          throw .invalid(
            "document \(number) decides offence \(offence.code) on the spot, but a fine of \(charge.fine.yuanText)\(offence.measure == .none ? "" : " with the licence \(offence.measure.english)") needs the general procedure"
          )
        }
      case .general:
        // Decided at the unit after a processing notice (公安部令第157号 §48–§51): only the
        // unit itself issues these, never a terminal at the roadside.
        guard terminal == PenaltyDocument.unit else {
          throw .invalid(
            "document \(number) is a general-procedure decision; only the unit decides those (公安部令第157号 §48), not terminal \(terminal)"
          )
        }
      }
    }
  }

  /// The `terminal` of documents the unit (central) issues itself: general-procedure decisions.
  public static let unit = "central"
}
