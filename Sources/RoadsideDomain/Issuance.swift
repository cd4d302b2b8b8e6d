/// The rules a licence record must satisfy to be one the vehicle management office could
/// have issued (公安部令第162号 §14, §16, §17, §65) and that a decision on record leaves in
/// force (道路交通安全法 §91, §101): pure functions of the record and a date.
///
/// A record carries the date of first issue and the classes held, not the date each class
/// was added, so the checks are those the record can decide: every class is held at or
/// above its §14 age, a class §16 allows only as an addition has had §17's shortest wait
/// since the first issue, no class closed at the holder's age by §65 is still held, and a
/// licence first issued past 60 holds only the classes §14 opens at that age. The records
/// carry no schooling, so §14(一)5's and §17's exceptions for full-time driving students
/// (A1 and A2 from 19, no waiting) are not applied: a record relying on them is refused.
extension LicenceClass {
  /// The youngest age at which this class is issued (公安部令第162号 §14(一)1–4).
  public var minimumAge: Int {
    switch self {
    case .c1, .c2, .c5, .f, .c3, .c4, .d, .e, .m: 18
    case .a3, .b1, .b2, .c6, .n, .p: 20
    case .a1, .a2: 22
    }
  }

  /// The oldest age at which this class may be applied for (§14(一)2–4: "60周岁以下", 60
  /// included); nil when §14 sets no upper age (C1, C2, C5, F).
  public var applicationAgeLimit: Int? {
    switch self {
    case .c1, .c2, .c5, .f: nil
    default: 60
    }
  }

  /// The §14(一) item that sets this class's ages.
  var ageItem: String {
    switch self {
    case .c1, .c2, .c5, .f: "§14(一)1"
    case .c3, .c4, .d, .e, .m: "§14(一)2"
    case .a3, .b1, .b2, .c6, .n, .p: "§14(一)3"
    case .a1, .a2: "§14(一)4"
    }
  }

  /// Whether a first licence may be of this class (§16 first paragraph). 大型客车 A1,
  /// 重型牵引挂车 A2, 中型客车 B1 and 轻型牵引挂车 C6 are only ever added to a licence held.
  public var isFirstIssuable: Bool {
    switch self {
    case .a1, .a2, .b1, .c6: false
    default: true
    }
  }

  /// The shortest time, in years, a class must already have been held before this one is
  /// added (§17(一)–(四), the quickest of each item's routes): C6 after a year of C1 or C2;
  /// B1 after two years of A3, B2, C1, C2, C3 or C4; A2 after two years of B1 or B2 (a year
  /// of A1 comes later still); A1 after two years of A3 or B1. Zero for first-issue classes.
  public var yearsHeldBeforeAdding: Int {
    switch self {
    case .c6: 1
    case .b1, .a2, .a1: 2
    default: 0
    }
  }

  /// The §17 item for an added class.
  var additionItem: String {
    switch self {
    case .c6: "§17(一)"
    case .b1: "§17(二)"
    case .a2: "§17(三)"
    default: "§17(四)"
    }
  }
}

extension LocalDate {
  /// Completed years from `birthDate` to `self` (周岁): a year is complete on the birthday,
  /// and one born on 29 February completes it on 28 February in a common year, as
  /// ``adding(years:)`` and every age rule here count.
  public func age(bornOn birthDate: LocalDate) -> Int {
    var years = year - birthDate.year
    if birthDate.adding(years: years) > self { years -= 1 }
    return years
  }
}

extension Licence {
  /// The first rule of 公安部令第162号 §14, §16, §17 or §65 this record breaks on `date`
  /// (the date the record describes), as a sentence naming the class, the dates and the
  /// article; nil when the record could be one the office issued and still in force. §65
  /// is not applied to a licence no longer in force (revoked, deregistered …): its classes
  /// are history, not permission.
  public func issuanceBreach(on date: LocalDate) -> String? {
    let law = "公安部令第162号"
    let age = date.age(bornOn: birthDate)
    let ageAtFirstIssue = firstIssued.age(bornOn: birthDate)
    for cls in classes.sorted() where age < cls.minimumAge {
      return
        "class \(cls.rawValue) (\(cls.chinese)) is issued from age \(cls.minimumAge) (\(law) \(cls.ageItem)), but the holder is \(age) on \(date)"
    }
    for cls in classes.sorted() where !cls.isFirstIssuable {
      let earliest = firstIssued.adding(years: cls.yearsHeldBeforeAdding)
      if earliest > date {
        return
          "class \(cls.rawValue) (\(cls.chinese)) is never a first licence (\(law) §16) and is added only after \(cls.yearsHeldBeforeAdding) year\(cls.yearsHeldBeforeAdding == 1 ? "" : "s") with another class (\(cls.additionItem)): first issued \(firstIssued), it cannot be held before \(earliest)"
      }
    }
    if ageAtFirstIssue > 60,
      let cls = classes.sorted().first(where: { $0.applicationAgeLimit != nil })
    {
      return
        "class \(cls.rawValue) (\(cls.chinese)) is applied for at 60 at the latest (\(law) \(cls.ageItem)), but the licence was first issued at \(ageAtFirstIssue) (\(firstIssued))"
    }
    for cls in classes.sorted()
    where !status.isTerminal && !cls.ageAllows(birthDate: birthDate, on: date) {
      let limit = cls.maximumAge ?? 0
      return
        "the holder turned \(limit) on \(birthDate.adding(years: limit)) and may no longer hold class \(cls.rawValue) (\(cls.chinese)) (\(law) §65); on \(date) the record must show the class exchanged"
    }
    return nil
  }
}

extension LicenceMeasure {
  /// The status a licence must show on `date` after a decision with this measure taken on
  /// `decidedOn` (道路交通安全法 §91, §101, §110): F after a revocation; D (or F) while a
  /// suspension runs; nil when the decision leaves the status free.
  public func requiredStatus(decidedOn: LocalDate, on date: LocalDate) -> StatusCode? {
    switch self {
    case .none: nil
    case .revoke: .revoked
    case .suspend(let months): decidedOn.adding(months: months) > date ? .suspended : nil
    }
  }
}
