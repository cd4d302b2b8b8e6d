/// How long a licence is valid (公安部令第162号 §13: six years, ten years or long-term).
public enum ValidityTerm: String, Sendable, Codable, CaseIterable {
  case sixYears = "6y"
  case tenYears = "10y"
  case longTerm = "long-term"

  public var years: Int? {
    switch self {
    case .sixYears: 6
    case .tenYears: 10
    case .longTerm: nil
    }
  }

  /// The term after a renewal (§62): 6 → 10 years and 10 years → long-term when no
  /// scoring cycle of the ending term reached 12 points; otherwise the same term again.
  public func next(fullScoreInTerm: Bool) -> ValidityTerm {
    guard !fullScoreInTerm else { return self }
    switch self {
    case .sixYears: return .tenYears
    case .tenYears, .longTerm: return .longTerm
    }
  }
}

/// The licence's period of validity. `validUntil` is the last day on which the licence is
/// valid ("有效期限 2020-05-10 至 2026-05-10"); long-term licences have none.
public struct Validity: Sendable, Hashable, Codable {
  public let term: ValidityTerm
  public let validFrom: LocalDate
  public let validUntil: LocalDate?

  public init(term: ValidityTerm, from start: LocalDate) {
    self.term = term
    self.validFrom = start
    self.validUntil = term.years.map { start.adding(years: $0) }
  }

  public func isExpired(on date: LocalDate) -> Bool {
    guard let validUntil else { return false }
    return date > validUntil
  }

  /// Whether `date` is before the validity starts.
  public func isNotYetValid(on date: LocalDate) -> Bool { date < validFrom }

  enum CodingKeys: String, CodingKey {
    case term
    case validFrom
    case validUntil
  }

  /// Decodes `term` and `validFrom`; `validUntil`, when given, must agree with them.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let term = try container.decode(ValidityTerm.self, forKey: .term)
    let from = try container.decode(LocalDate.self, forKey: .validFrom)
    self.init(term: term, from: from)
    if let given = try container.decodeIfPresent(LocalDate.self, forKey: .validUntil),
      given != validUntil
    {
      throw DecodingError.dataCorruptedError(
        forKey: .validUntil, in: container,
        debugDescription:
          "a \(term.rawValue) validity from \(from) ends on \(validUntil.map(\.description) ?? "no date"), not \(given)"
      )
    }
  }

  /// Writes `validUntil` always, `null` for long-term, so the JSON shape never varies.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(term, forKey: .term)
    try container.encode(validFrom, forKey: .validFrom)
    try container.encode(validUntil, forKey: .validUntil)
  }

  /// `2020-05-10 至 2026-05-10`, or `2020-05-10 起长期`.
  public var display: String {
    if let validUntil { return "\(validFrom) 至 \(validUntil)" }
    return "\(validFrom) 起长期"
  }
}

/// The authority that issued a licence, e.g. 北京市公安局公安交通管理局 with the
/// plate-style code 京A.
public struct IssuingAuthority: Sendable, Hashable, Codable {
  public let name: String
  public let code: String

  public init(name: String, code: String) {
    self.name = name
    self.code = code
  }

  public static let beijing = IssuingAuthority(name: "北京市公安局公安交通管理局", code: "京A")
}

/// A driving licence as the central store keeps it (公安部令第162号 §12 contents), plus the
/// status codes and the e-licence epoch.
public struct Licence: Sendable, Hashable, Codable {
  public let number: LicenceNumber
  public let fileNumber: FileNumber
  public var name: String
  public var gender: Gender
  public var birthDate: LocalDate
  public var nationality: String
  public var address: String
  public var photo: String?
  public var firstIssued: LocalDate
  public var classes: [LicenceClass]
  public var validity: Validity
  public var authority: IssuingAuthority
  public var status: LicenceStatus
  /// The e-licence epoch: renewal, a class change, a validity change or a change of
  /// issuing authority starts a new one and invalidates every earlier e-licence.
  public var epoch: Int
  /// The last day of a suspension (暂扣), when one is in force.
  public var suspendedUntil: LocalDate?

  public init(
    number: LicenceNumber, fileNumber: FileNumber, name: String, gender: Gender,
    birthDate: LocalDate, nationality: String = "中国", address: String, photo: String?,
    firstIssued: LocalDate, classes: [LicenceClass], validity: Validity,
    authority: IssuingAuthority, status: LicenceStatus = .normal, epoch: Int = 1,
    suspendedUntil: LocalDate? = nil
  ) {
    self.number = number
    self.fileNumber = fileNumber
    self.name = name
    self.gender = gender
    self.birthDate = birthDate
    self.nationality = nationality
    self.address = address
    self.photo = photo
    self.firstIssued = firstIssued
    self.classes = classes
    self.validity = validity
    self.authority = authority
    self.status = status
    self.epoch = epoch
    self.suspendedUntil = suspendedUntil
  }

  enum CodingKeys: String, CodingKey {
    case number, fileNumber, name, gender, birthDate, nationality, address, photo, firstIssued
    case classes, validity, authority, status, epoch, suspendedUntil
  }

  /// Writes every field, optional ones as `null`, so the JSON shape never varies.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(number, forKey: .number)
    try c.encode(fileNumber, forKey: .fileNumber)
    try c.encode(name, forKey: .name)
    try c.encode(gender, forKey: .gender)
    try c.encode(birthDate, forKey: .birthDate)
    try c.encode(nationality, forKey: .nationality)
    try c.encode(address, forKey: .address)
    try c.encode(photo, forKey: .photo)
    try c.encode(firstIssued, forKey: .firstIssued)
    try c.encode(classes, forKey: .classes)
    try c.encode(validity, forKey: .validity)
    try c.encode(authority, forKey: .authority)
    try c.encode(status, forKey: .status)
    try c.encode(epoch, forKey: .epoch)
    try c.encode(suspendedUntil, forKey: .suspendedUntil)
  }

  /// Checks the record's internal consistency. The message names the field at fault.
  public func validate() throws(DomainError) {
    let nameLength = name.trimmingWhitespace().count
    guard nameLength > 0, nameLength <= 40 else {
      throw .invalid("field \"name\": a holder's name must have 1 to 40 characters")
    }
    guard gender == number.gender else {
      throw .invalid(
        "field \"gender\": the licence number says \(number.gender.rawValue) (17th digit), the record says \(gender.rawValue)"
      )
    }
    guard birthDate == number.birthDate else {
      throw .invalid(
        "field \"birthDate\": the licence number says \(number.birthDate), the record says \(birthDate)"
      )
    }
    guard !classes.isEmpty else {
      throw .invalid("field \"classes\": a licence permits at least one class")
    }
    guard firstIssued >= birthDate.adding(years: 18) else {
      throw .invalid(
        "field \"firstIssued\": \(firstIssued) is before the holder's 18th birthday (\(birthDate.adding(years: 18))), the youngest any class is issued at (公安部令第162号 §14)"
      )
    }
    guard validity.validFrom >= firstIssued else {
      throw .invalid(
        "field \"validity.validFrom\": \(validity.validFrom) is before the first issue (\(firstIssued))"
      )
    }
    guard epoch >= 1 else { throw .invalid("field \"epoch\": an e-licence epoch starts at 1") }
    guard !address.trimmingWhitespace().isEmpty else {
      throw .invalid("field \"address\": the holder's address is required")
    }
    guard !authority.name.isEmpty, !authority.code.isEmpty else {
      throw .invalid("field \"authority\": the issuing authority needs a name and a code")
    }
  }

  /// Expired validity (the licence is not valid on `date` even if its status is A).
  public func isExpired(on date: LocalDate) -> Bool { validity.isExpired(on: date) }

  /// Status A, within validity: the licence permits driving on `date`.
  public func permitsDriving(on date: LocalDate) -> Bool {
    status.permitsDriving && !validity.isExpired(on: date) && !validity.isNotYetValid(on: date)
  }

  /// The scoring cycle that contains `date`.
  public func scoringCycle(on date: LocalDate) -> ScoringCycle {
    ScoringCycle.containing(date, firstIssued: firstIssued)
  }
}

// MARK: - Administrative changes (pure: each returns the changed licence or refuses)

extension Licence {
  private func refuseIfEnded(_ action: String) throws(DomainError) {
    if status.isTerminal {
      throw .refused(
        "cannot \(action): the licence has status \(status.code) (\(status.english)) and is no longer in force"
      )
    }
  }

  /// 暂扣: adds status D until `until` (inclusive).
  public func suspending(until: LocalDate?) throws(DomainError) -> Licence {
    try refuseIfEnded("suspend it")
    guard !status.contains(.suspended) else {
      throw .refused(
        "the licence is already suspended (status D); reinstate it first to change the term")
    }
    var copy = self
    copy.status = status.adding(.suspended)
    copy.suspendedUntil = until
    return copy
  }

  /// 扣留: adds status U (the paper licence is held by the police).
  public func withholding() throws(DomainError) -> Licence {
    try refuseIfEnded("withhold it")
    guard !status.contains(.withheld) else {
      throw .refused("the licence is already withheld (status U)")
    }
    var copy = self
    copy.status = status.adding(.withheld)
    return copy
  }

  /// Ends a suspension and a withholding (removes D and U).
  public func reinstating() throws(DomainError) -> Licence {
    try refuseIfEnded("reinstate it")
    guard status.contains(.suspended) || status.contains(.withheld) else {
      throw .refused(
        "the licence is neither suspended (D) nor withheld (U), so there is nothing to reinstate")
    }
    var copy = self
    copy.status = status.removing(.suspended).removing(.withheld)
    copy.suspendedUntil = nil
    return copy
  }

  /// 吊销: status F; the licence ends. Its e-licences stop verifying through the status.
  public func revoking() throws(DomainError) -> Licence {
    try refuseIfEnded("revoke it")
    var copy = self
    copy.status = LicenceStatus(codes: status.codes.union([.revoked]))
    copy.suspendedUntil = nil
    return copy
  }

  /// 换证: a new validity from the old end (or from `date` when overdue), with the next
  /// term of §62, removing status M, and a new e-licence epoch.
  public func renewing(on date: LocalDate, fullScoreInTerm: Bool) throws(DomainError) -> Licence {
    try refuseIfEnded("renew it")
    guard let until = validity.validUntil else {
      throw .refused("the licence is valid long-term; it needs no renewal")
    }
    guard date >= until.adding(days: -90) else {
      throw .refused(
        "a licence is renewed within 90 days before it expires (公安部令第162号 §63); this one expires on \(until), renew from \(until.adding(days: -90))"
      )
    }
    guard !isPastRenewal(on: date) else {
      throw .refused(
        "the licence expired on \(until), more than one year ago: it is not renewed but cancelled (注销, status G; 公安部令第162号 §79(八)); driving resumes only after the exam"
      )
    }
    var copy = self
    let start = date > until ? date : until
    copy.validity = Validity(
      term: validity.term.next(fullScoreInTerm: fullScoreInTerm), from: start)
    copy.status = status.removing(.overdueRenewal)
    copy.epoch = epoch + 1
    return copy
  }

  /// A change of permitted classes (增驾, 降级): a new e-licence epoch.
  public func changingClasses(to classes: [LicenceClass]) throws(DomainError) -> Licence {
    try refuseIfEnded("change its classes")
    guard !classes.isEmpty else {
      throw .invalid("a licence permits at least one class")
    }
    let sorted = Array(Set(classes)).sorted()
    guard sorted != self.classes else {
      throw .refused("the licence already permits exactly \(sorted.code)")
    }
    var copy = self
    copy.classes = sorted
    copy.epoch = epoch + 1
    return copy
  }

  /// More than one year past expiry without renewal: the licence is to be cancelled (注销,
  /// 公安部令第162号 §79(八)), not renewed.
  public func isPastRenewal(on date: LocalDate) -> Bool {
    guard let until = validity.validUntil else { return false }
    return date > until.adding(years: 1)
  }

  /// 注销: status G; the licence ends (162号 §79, §80).
  public func cancelling() -> Licence {
    var copy = self
    copy.status = LicenceStatus(codes: status.codes.union([.deregistered]))
    copy.suspendedUntil = nil
    return copy
  }

  /// Returns a paper licence withheld at the roadside (removes U only).
  public func removingWithholding() -> Licence {
    var copy = self
    copy.status = status.removing(.withheld)
    return copy
  }

  /// The licence marked as having reached 12 points after a decision scored `outcome`, or
  /// nil when it is not to be marked: the cycle the decision counts in must be the current
  /// one on `today` and total 12 or more (公安部令第163号 §17), and the licence neither marked
  /// already nor ended (cancelled or revoked).
  public func markedPointsFull(after outcome: PointsOutcome, today: LocalDate) -> Licence? {
    guard outcome.after >= PointsLedger.fullScore, outcome.cycle.contains(today),
      !status.contains(.pointsFull), !status.isTerminal
    else { return nil }
    return markingPointsFull()
  }

  /// Status B after 12 points (公安部令第163号 §17), with the licence withheld (U).
  public func markingPointsFull() -> Licence {
    var copy = self
    copy.status = status.adding(.pointsFull).adding(.withheld)
    return copy
  }

  /// Clears status B (and the withholding) after full-score education (§23). With a
  /// suspension still running, `returnLicence: false` keeps U until it ends (§23).
  public func clearingPointsFull(returnLicence: Bool = true) -> Licence {
    var copy = self
    copy.status = status.removing(.pointsFull)
    if returnLicence { copy.status = copy.status.removing(.withheld) }
    return copy
  }
}

extension StringProtocol {
  func trimmingWhitespace() -> String {
    var text = Substring(self)
    while text.first?.isWhitespace == true { text.removeFirst() }
    while text.last?.isWhitespace == true { text.removeLast() }
    return String(text)
  }
}
