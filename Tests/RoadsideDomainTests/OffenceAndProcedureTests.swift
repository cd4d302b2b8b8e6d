import RoadsideDomain
import Testing

@Suite struct OffenceCatalogueTests {
  let catalogue = OffenceCatalogue.current

  @Test func coversEveryPointValueAndWarningsWithAtLeastFortyOffences() {
    #expect(catalogue.offences.count >= 40)
    let byPoints = Dictionary(grouping: catalogue.offences, by: \.points)
    for points in [12, 9, 6, 3, 1, 0] {
      #expect((byPoints[points]?.count ?? 0) >= 3, "points \(points)")
    }
    #expect(catalogue.offences.contains { $0.fine.warningAllowed })
  }

  @Test(arguments: OffenceCatalogue.current.offences)
  func everyOffenceIsConsistent(_ offence: Offence) {
    #expect(offence.code.count == 4)
    #expect(
      Int(offence.code.prefix(2)) == offence.points, "code \(offence.code) encodes its points")
    #expect(offence.pointsBasis.contains("公安部令第163号"))
    #expect(!offence.chinese.isEmpty && !offence.english.isEmpty)
    #expect(offence.fine.minimumYuan <= offence.fine.defaultYuan)
    #expect(offence.fine.defaultYuan <= offence.fine.maximumYuan)
    #expect(!offence.fine.basis.isEmpty && !offence.fine.defaultBasis.isEmpty)
    // A warning may replace the fine exactly where the article punishing the offence says so:
    // 道路交通安全法 §90 "处警告或者二十元以上二百元以下罚款" (or §95 through it), whatever the points.
    #expect(offence.fine.warningAllowed == offence.fine.basis.contains("第90条"))
  }

  @Test func codesAreUnique() {
    #expect(Set(catalogue.offences.map(\.code)).count == catalogue.offences.count)
  }

  @Test(arguments: [
    ("1201", 12, 1500, LicenceMeasure.suspend(months: 6)), ("1202", 12, 0, .revoke),
    ("0906", 9, 1000, .none), ("0601", 6, 200, .none), ("0301", 3, 200, .none),
    ("0111", 1, 50, .none), ("0001", 0, 100, .none),
  ])
  func knownEntries(_ code: String, _ points: Int, _ fine: Int, _ measure: LicenceMeasure) throws {
    let offence = try catalogue.require(code)
    #expect(offence.points == points)
    #expect(offence.fine.defaultYuan == fine)
    #expect(offence.measure == measure)
  }

  @Test func unknownCode() {
    #expect(
      throws: DomainError(
        .invalidData,
        "unknown offence code \"9999\"; run 'roadside central offence list' to see the \(catalogue.offences.count) codes of catalogue RS-2026.2"
      )
    ) {
      try catalogue.require("9999")
    }
  }

  @Test(arguments: [
    ("0601", 20, true), ("0601", 200, true), ("0601", 201, false), ("0601", 10, false),
    ("0601", 0, true), ("0605", 0, false),
    ("0301", 0, true), ("1201", 1000, true), ("1201", 999, false), ("1202", 0, true),
    ("1202", 100, false),
  ])
  func fineRange(_ code: String, _ yuan: Int, _ ok: Bool) throws {
    let offence = try catalogue.require(code)
    if ok {
      #expect(throws: Never.self) { try offence.fine.check(yuan, offence: code) }
    } else {
      #expect(throws: DomainError.self) { try offence.fine.check(yuan, offence: code) }
    }
  }

  @Test func fineErrorsSayTheRange() throws {
    let red = try catalogue.require("0601")
    #expect(
      throws: DomainError(
        .invalidData,
        "a fine of 500 yuan is outside the legal range for offence 0601: 20–200 yuan (道路交通安全法 第90条)"
      )
    ) {
      try red.fine.check(500, offence: "0601")
    }
  }
}

@Suite struct ProcedureTests {
  /// 行政处罚法 §51, 公安部令第157号 §43: warnings and fines up to 200 yuan are simple; more,
  /// or 暂扣 / 吊销, is general. Withholding (扣留) is not part of the gate (157号 §43, §31).
  @Test(arguments: [
    (0, true, LicenceMeasure.none, Procedure.simple),
    (50, false, .none, .simple),
    (200, false, .none, .simple),
    (201, false, .none, .general),
    (1500, false, .suspend(months: 6), .general),
    (0, false, .revoke, .general),
  ])
  func gate(_ yuan: Int, _ warning: Bool, _ measure: LicenceMeasure, _ expected: Procedure) {
    #expect(
      Procedure.gate(fine: Money(yuan: yuan), isWarning: warning, measure: measure) == expected)
  }

  @Test func defaultProcedureOfCatalogueEntries() throws {
    #expect(try OffenceCatalogue.current.require("0601").defaultProcedure == .simple)
    #expect(try OffenceCatalogue.current.require("1201").defaultProcedure == .general)
    #expect(try OffenceCatalogue.current.require("0906").defaultProcedure == .general)
  }
}

@Suite struct PaymentTests {
  let served = date("2026-11-01")

  @Test func deadlineIsFifteenDaysAfterService() {
    #expect(Payment.deadline(servedOn: served) == date("2026-11-16"))
  }

  @Test(arguments: [
    // (fine yuan, pay date, surcharge fen)
    (200, "2026-11-16", Int64(0)), (200, "2026-11-17", 600), (200, "2026-11-18", 1200),
    (200, "2026-12-19", 19_800), (200, "2026-12-20", 20_000), (200, "2027-06-01", 20_000),
    (50, "2026-11-17", 150), (1500, "2026-11-26", 45_000),
  ])
  func surchargeIsThreePercentADayCappedAtTheFine(_ yuan: Int, _ on: String, _ fen: Int64) {
    #expect(
      Payment.surcharge(fine: Money(yuan: yuan), servedOn: served, on: date(on)) == Money(fen: fen))
  }

  @Test func reviewPausesTheSurcharge() {
    let paused = [date("2026-11-17")...date("2026-11-26")]
    #expect(Payment.daysLate(servedOn: served, on: date("2026-11-27"), paused: paused) == 1)
    #expect(
      Payment.surcharge(
        fine: Money(yuan: 200), servedOn: served, on: date("2026-11-27"), paused: paused)
        == Money(fen: 600))
    #expect(
      Payment.amountDue(
        fine: Money(yuan: 200), servedOn: served, on: date("2026-11-27"), paused: paused)
        == Money(fen: 20_600))
  }

  @Test func moneyPrints() {
    #expect(Money(fen: 20_600).description == "206.00")
    #expect(Money(fen: 150).yuanText == "1.50 元")
  }
}

/// The catalogue against the texts: each row names the article it applies.
@Suite struct CatalogueLawTests {
  let catalogue = OffenceCatalogue.current

  /// 道路交通安全法 §90 ("处警告或者二十元以上二百元以下罚款") allows a warning whatever the
  /// points; §91, §92, §93第2款, §96, §99 do not.
  @Test(arguments: [
    ("0601", true, "道路交通安全法 §90"), ("1209", true, "道路交通安全法 §90"),
    ("0903", true, "道路交通安全法 §90"), ("0904", true, "道路交通安全法 §95第1款 → §90"),
    ("1208", true, "道路交通安全法 §90 (20–50 % over)"), ("0901", true, "道路交通安全法 §90"),
    ("1201", false, "道路交通安全法 §91"), ("0312", false, "道路交通安全法 §92第2款"),
    ("0006", false, "道路交通安全法 §93第2款"), ("1207", false, "道路交通安全法 §99"),
  ])
  func warningsWhereTheLawAllowsThem(_ code: String, _ allowed: Bool, _ article: String) throws {
    #expect(try catalogue.require(code).fine.warningAllowed == allowed, "\(article)")
  }

  /// Measures the texts attach: 道路交通安全法 §91 (6 months), §101第2款 (leaving the scene);
  /// withheld at the roadside, 公安部令第157号 §31(一) drink-driving, §31(三) 50 % or more over.
  @Test(arguments: [
    ("1201", LicenceMeasure.suspend(months: 6), "公安部令第157号 §31(一)" as String?),
    ("1202", .revoke, nil), ("1203", .revoke, nil), ("0609", .revoke, nil),
    ("1207", .none, "公安部令第157号 §31(三)"), ("1210", .none, "公安部令第157号 §31(三)"),
    ("0902", .none, "公安部令第157号 §31(三)"), ("0605", .none, "公安部令第157号 §31(三)"),
    ("0604", .none, nil),
  ])
  func measuresFollowTheLaw(_ code: String, _ measure: LicenceMeasure, _ withhold: String?)
    throws
  {
    let offence = try catalogue.require(code)
    #expect(offence.measure == measure)
    #expect(offence.roadsideWithholding == withhold)
  }

  /// The offences added with their 公安部令第163号 article.
  @Test(arguments: [
    ("0010", 0, "第8条至第12条未列入"), ("0611", 6, "第10条第2项"), ("1211", 12, "第8条第4项"),
    ("0908", 9, "第9条第6项"), ("0315", 3, "第11条第12项"), ("1210", 12, "第8条第5项"),
  ])
  func addedOffencesCiteTheirArticle(_ code: String, _ points: Int, _ article: String) throws {
    let offence = try catalogue.require(code)
    #expect(offence.points == points)
    #expect(offence.pointsBasis.contains(article))
    #expect(offence.code.prefix(2) == (points < 10 ? "0" : "") + String(points))
  }

  /// 0-point offences are those 163号 §8–§12 do not list (§7); §28 is for warnings given.
  @Test func zeroPointOffencesDoNotCiteArticle28() {
    for offence in catalogue.offences where offence.points == 0 {
      #expect(!offence.pointsBasis.contains("第28条"), "\(offence.code)")
    }
  }
}

/// 公安部令第162号 §65: from 60 (70) a holder may no longer drive these classes.
@Suite struct AgeLimitTests {
  @Test(arguments: [
    (LicenceClass.a1, "1966-11-23", false), (.a1, "1966-11-24", true), (.b2, "1960-01-01", false),
    (.c1, "1940-01-01", true), (.d, "1956-11-23", false), (.d, "1960-01-01", true),
    (.m, "1966-01-01", false),
  ])
  func ageLimits(_ vehicle: LicenceClass, _ born: String, _ allowed: Bool) {
    #expect(vehicle.ageAllows(birthDate: date(born), on: date("2026-11-23")) == allowed)
  }
}
