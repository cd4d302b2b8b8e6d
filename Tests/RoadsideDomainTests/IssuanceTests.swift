import RoadsideDomain
import Testing

/// A licence record with the given birth date, first issue, classes and status.
func issued(
  born: String, first: String, _ classes: [LicenceClass], status: LicenceStatus = .normal
) -> Licence {
  let birth = date(born)
  return Licence(
    number: CitizenID.make(region: 110101, birthDate: birth, sequence: 123),
    fileNumber: try! FileNumber("110000123456"), name: "王芳", gender: .male, birthDate: birth,
    address: "北京市东城区东长安街1号", photo: nil, firstIssued: date(first), classes: classes,
    validity: Validity(term: .sixYears, from: date(first)), authority: .beijing, status: status)
}

/// 公安部令第162号 §14, §16, §17 and §65 on one record and one day: each row names the
/// article it tests and the breach expected (nil: the record is one the office could issue).
@Suite struct IssuanceRuleTests {
  static let day = "2026-11-01"

  @Test(
    arguments: [
      // §14(一)1–2: 18 for C1, C2, C5, F and C3, C4, D, E, M.
      ("§14(一)1", "2008-10-31", "2026-10-31", [LicenceClass.c1], nil),
      ("§14(一)2", "2007-01-01", "2025-01-01", [.e, .m], nil),
      // §14(一)3: A3, B2 from 20.
      (
        "§14(一)3", "2007-05-15", "2025-09-21", [.a3],
        "class A3 (城市公交车) is issued from age 20 (公安部令第162号 §14(一)3), but the holder is 19 on 2026-11-01"
      ),
      ("§14(一)3", "2006-11-01", "2024-11-01", [.b2], nil),
      // §14(一)4: A1 and A2 from 22 (the full-time student exception of §14(一)5 is not held).
      (
        "§14(一)4", "2005-01-01", "2023-01-01", [.a2],
        "class A2 (重型牵引挂车) is issued from age 22 (公安部令第162号 §14(一)4), but the holder is 21 on 2026-11-01"
      ),
      // §16 + §17(二): B1 is added only, after two years with another class.
      (
        "§16, §17(二)", "1990-01-01", "2025-06-01", [.b1],
        "class B1 (中型客车) is never a first licence (公安部令第162号 §16) and is added only after 2 years with another class (§17(二)): first issued 2025-06-01, it cannot be held before 2027-06-01"
      ),
      ("§16, §17(二)", "1990-01-01", "2024-11-01", [.b1], nil),
      // §17(一): C6 after one year of C1 or C2.
      (
        "§16, §17(一)", "1990-01-01", "2026-01-01", [.c1, .c6],
        "class C6 (轻型牵引挂车) is never a first licence (公安部令第162号 §16) and is added only after 1 year with another class (§17(一)): first issued 2026-01-01, it cannot be held before 2027-01-01"
      ),
      // §17(四): A1 alone after two years, the licence showing only the higher class.
      ("§16, §17(四)", "1980-01-01", "2010-01-01", [.a1], nil),
      // §14(一)2–4: classes other than C1 C2 C5 F are applied for at 60 at the latest.
      (
        "§14(一)2", "1955-01-01", "2016-03-01", [.e],
        "class E (普通二轮摩托车) is applied for at 60 at the latest (公安部令第162号 §14(一)2), but the licence was first issued at 61 (2016-03-01)"
      ),
      ("§14(一)1, §14(二)9", "1950-01-01", "2022-01-01", [.c2], nil),
      // §65: from 60 no A1 A2 A3 B1 B2 M N P; from 70 no C3 C4 C6 D E.
      (
        "§65", "1966-05-29", "2006-11-25", [.a2, .d],
        "the holder turned 60 on 2026-05-29 and may no longer hold class A2 (重型牵引挂车) (公安部令第162号 §65); on 2026-11-01 the record must show the class exchanged"
      ),
      ("§65", "1966-11-02", "2000-01-01", [.b2], nil),
      (
        "§65", "1956-10-01", "1980-01-01", [.c1, .e],
        "the holder turned 70 on 2026-10-01 and may no longer hold class E (普通二轮摩托车) (公安部令第162号 §65); on 2026-11-01 the record must show the class exchanged"
      ),
    ] as [(String, String, String, [LicenceClass], String?)])
  func breach(
    _ article: String, _ born: String, _ first: String, _ classes: [LicenceClass],
    _ expected: String?
  ) {
    let licence = issued(born: born, first: first, classes)
    #expect(licence.issuanceBreach(on: date(Self.day)) == expected, "\(article)")
  }

  /// §65 governs what a licence in force permits: a revoked licence's classes are history.
  @Test func aLicenceNoLongerInForceIsNotHeldToSection65() {
    let revoked = issued(
      born: "1950-01-01", first: "1980-01-01", [.a1], status: LicenceStatus(codes: [.revoked]))
    #expect(revoked.issuanceBreach(on: date(Self.day)) == nil)
    let withheld = issued(
      born: "1950-01-01", first: "1980-01-01", [.a1], status: LicenceStatus(codes: [.withheld]))
    #expect(withheld.issuanceBreach(on: date(Self.day)) != nil)
  }

  @Test(arguments: [
    ("2026-11-01", "1990-11-01", 36), ("2026-10-31", "1990-11-01", 35),
    ("2025-02-27", "2004-02-29", 20), ("2025-02-28", "2004-02-29", 21),
  ])
  func completedYears(_ on: String, _ born: String, _ years: Int) {
    #expect(date(on).age(bornOn: date(born)) == years)
  }
}

/// 道路交通安全法 §91, §101: the status a decision's measure requires on a later day.
@Suite struct MeasureStatusTests {
  @Test(arguments: [
    (LicenceMeasure.revoke, "2020-01-01", "2026-11-01", StatusCode.revoked as StatusCode?),
    (.suspend(months: 6), "2026-06-01", "2026-11-30", .suspended),
    (.suspend(months: 6), "2026-05-01", "2026-11-01", nil),
    (.none, "2026-10-01", "2026-11-01", nil),
  ])
  func requiredStatus(
    _ measure: LicenceMeasure, _ decided: String, _ on: String, _ status: StatusCode?
  ) {
    #expect(measure.requiredStatus(decidedOn: date(decided), on: date(on)) == status)
  }
}
