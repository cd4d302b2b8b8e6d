import RoadsideDomain
import Testing

@Suite struct PermittedClassTableTests {
  let table = PermittedClassTable.gb162of2021

  // Every row of DESIGN.md §1 / 公安部令第162号 annex 1.
  @Test(arguments: [
    (LicenceClass.a1, "A3 B1 B2 C1 C2 C3 C4 M"),
    (.a2, "B1 B2 C1 C2 C3 C4 C6 M"),
    (.a3, "C1 C2 C3 C4"),
    (.b1, "C1 C2 C3 C4 M"),
    (.b2, "C1 C2 C3 C4 M"),
    (.c1, "C2 C3 C4"),
    (.c3, "C4"),
    (.d, "E F"),
    (.e, "F"),
    (.c2, ""), (.c4, ""), (.c5, ""), (.c6, ""), (.f, ""), (.m, ""), (.n, ""), (.p, ""),
  ])
  func rowOfTheTable(_ held: LicenceClass, _ also: String) {
    let expected = Set(also.split(separator: " ").map { LicenceClass(rawValue: String($0))! })
    #expect(table.alsoPermits[held] == expected)
    #expect(table.permitted(by: [held]) == expected.union([held]))
    for vehicle in LicenceClass.allCases {
      #expect(
        table.permits([held], toDrive: vehicle) == (vehicle == held || expected.contains(vehicle)))
    }
  }

  @Test func theTableIsClosedUnderItself() {
    for (cls, also) in table.alsoPermits {
      for other in also {
        #expect((table.alsoPermits[other] ?? []).isSubset(of: also), "\(cls) → \(other)")
      }
    }
    #expect(Set(table.alsoPermits.keys) == Set(LicenceClass.allCases))
  }

  @Test func severalClassesCombine() {
    #expect(table.permits([.c1, .e], toDrive: .f))
    #expect(!table.permits([.c1, .e], toDrive: .d))
    #expect(!table.permits([.c2], toDrive: .c1))
  }

  @Test(arguments: [
    ("C1D", [LicenceClass.c1, .d]), ("c1,e", [.c1, .e]), ("A2 D", [.a2, .d]), ("B2", [.b2]),
    ("DC1", [.c1, .d]), ("A1A2D", [.a1, .a2, .d]), ("C1C1", [.c1]), ("A2A1", [.a1, .a2]),
    ("C1E", [.c1, .e]),
  ])
  func parsesClassLists(_ text: String, _ classes: [LicenceClass]) throws {
    #expect(try LicenceClass.parseList(text) == classes)
  }

  @Test(arguments: [
    (
      "C9",
      "unknown licence class \"C9\"; valid classes are A1 A2 A3 B1 B2 C1 C2 C3 C4 C5 C6 D E F M N P"
    ),
    (
      "X",
      "unknown licence class \"X\"; valid classes are A1 A2 A3 B1 B2 C1 C2 C3 C4 C5 C6 D E F M N P"
    ),
    ("", "no licence class given; name at least one, such as C1"),
    (
      "C12",
      "unknown licence class \"2\"; valid classes are A1 A2 A3 B1 B2 C1 C2 C3 C4 C5 C6 D E F M N P"
    ),
  ])
  func rejectsUnknownClasses(_ text: String, _ message: String) {
    #expect(throws: DomainError(.invalidData, message)) { try LicenceClass.parseList(text) }
  }
}

@Suite struct LicenceStatusTests {
  @Test(arguments: [
    ("A", true), ("D", false), ("DH", false), ("B", false), ("M", false), ("U", false),
    ("F", false),
  ])
  func onlyNormalPermitsDriving(_ code: String, _ permits: Bool) throws {
    #expect(try LicenceStatus(code: code).permitsDriving == permits)
  }

  @Test func severalCodesAtOnceAndNormalComesBack() throws {
    let status = LicenceStatus.normal.adding(.suspended).adding(.violationUnprocessed)
    #expect(status.code == "DH")
    #expect(status.chinese == "暂扣 违法未处理")
    #expect(status.removing(.suspended).code == "H")
    #expect(status.removing(.suspended).removing(.violationUnprocessed).code == "A")
    #expect(try LicenceStatus(code: "h,d") == status)
  }

  @Test(arguments: [
    ("AD", "status A (normal) cannot be combined with other codes"),
    (
      "DQ", "unknown licence status code \"Q\"; valid codes are A B C D E F G H I J K M N P R S U Z"
    ),
    ("", "a licence status needs at least one code, such as A"),
  ])
  func rejectsBadCodes(_ code: String, _ message: String) {
    #expect(throws: DomainError(.invalidData, message)) { try LicenceStatus(code: code) }
  }

  @Test func everyCodeHasNames() {
    #expect(StatusCode.allCases.count == 18)
    for code in StatusCode.allCases {
      #expect(!code.chinese.isEmpty && !code.english.isEmpty)
    }
  }
}
