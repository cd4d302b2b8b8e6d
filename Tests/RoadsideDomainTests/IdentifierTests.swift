import RoadsideDomain
import Testing

@Suite struct CitizenIDTests {
  // Valid numbers, including the GB 11643 standard's own example (11010519491231002X).
  @Test(arguments: [
    "11010519491231002X", "110101199003070011", "310101198507150026", "440106200001011230",
    "11010519491231002x",
  ])
  func acceptsValidNumbers(_ text: String) throws {
    let id = try CitizenID(text)
    #expect(id.value == text.uppercased())
  }

  @Test(arguments: [
    (
      "1101051949123100",
      "a licence number is the holder's 18-character citizen ID number, but 16 characters were given"
    ),
    (
      "11010519491231002X0",
      "a licence number is the holder's 18-character citizen ID number, but 19 characters were given"
    ),
    ("11010519491231002Y", "the 18th character of the licence number must be a digit or X"),
    (
      "1101051949123100AX",
      "character 17 of the licence number is not a digit; only the 18th may be X"
    ),
    (
      "99010519491231002X",
      "the licence number starts with 99, which is no province code of GB/T 2260"
    ),
    (
      "110105194913310025",
      "characters 7–14 of the licence number are not a valid birth date (YYYYMMDD)"
    ),
    (
      "110105194902300023",
      "characters 7–14 of the licence number are not a valid birth date (YYYYMMDD)"
    ),
    (
      "110105194912310021",
      "the licence number's check character is 1 but GB 11643 gives X for the first 17 digits; check the number for a typo"
    ),
  ])
  func rejectsInvalidNumbersWithAClearReason(_ text: String, _ message: String) {
    #expect(throws: DomainError(.invalidData, message)) { try CitizenID(text) }
  }

  @Test func derivesBirthDateGenderAndMask() throws {
    let id = try CitizenID("11010519491231002X")
    #expect(id.birthDate == LocalDate(year: 1949, month: 12, day: 31))
    #expect(id.gender == .female)  // 17th digit 2 is even
    #expect(try CitizenID("110101199003070011").gender == .male)
    #expect(id.masked == "110105********002X")
    #expect(id.regionCode == 110105)
  }

  @Test func makeComputesTheCheckCharacter() throws {
    let id = CitizenID.make(
      region: 110105, birthDate: LocalDate(year: 1949, month: 12, day: 31)!, sequence: 2)
    #expect(id.value == "11010519491231002X")
  }

  @Test func everyCheckCharacterIsReachable() {
    var seen: Set<Character> = []
    for sequence in 0..<200 {
      let id = CitizenID.make(
        region: 310101, birthDate: LocalDate(year: 1990, month: 1, day: 1)!, sequence: sequence)
      seen.insert(id.value.last!)
    }
    #expect(seen == Set("0123456789X"))
  }
}

@Suite struct FileNumberTests {
  @Test(arguments: ["110000123456", "000000000001"])
  func accepts(_ text: String) throws { #expect(try FileNumber(text).value == text) }

  @Test(arguments: ["11000012345", "1100001234567", "11000012345A", ""])
  func rejects(_ text: String) {
    #expect(
      throws: DomainError(
        .invalidData, "a licence file number (档案编号) is 12 digits, but \"\(text)\" was given")
    ) {
      try FileNumber(text)
    }
  }
}

@Suite struct PlateTests {
  @Test(arguments: [
    ("京A12345", Plate.Kind.ordinary), ("沪B1C23D", .ordinary), ("粤BAB123", .ordinary),
    ("京AD12345", .newEnergySmall), ("京AFA1234", .newEnergySmall), ("京A12345D", .newEnergyLarge),
    ("苏E12345F", .newEnergyLarge), ("京A1234学", .coach), ("冀B1234挂", .trailer),
    ("京A1234警", .police), ("京a 12345", .ordinary), ("京A·12345", .ordinary),
  ])
  func classifies(_ text: String, _ kind: Plate.Kind) throws {
    #expect(try Plate(text).kind == kind)
  }

  @Test func normalisesSpacingAndCase() throws {
    #expect(try Plate("京a·123b5").value == "京A123B5")
  }

  @Test(arguments: [
    (
      "A12345",
      "a plate starts with a province abbreviation such as 京 or 沪, but \"A12345\" does not"
    ),
    (
      "京I12345",
      "the second character of plate \"京I12345\" must be the issuing authority's letter (A–Z, not I or O)"
    ),
    (
      "京A1234",
      "plate \"京A1234\" is neither an ordinary plate (京A12345) nor a new-energy plate (京AD12345 or 京A12345D)"
    ),
    (
      "京AABC12",
      "plate \"京AABC12\" is neither an ordinary plate (京A12345) nor a new-energy plate (京AD12345 or 京A12345D)"
    ),
    (
      "京A1O345",
      "plate \"京A1O345\" is neither an ordinary plate (京A12345) nor a new-energy plate (京AD12345 or 京A12345D)"
    ),
    (
      "京AX12345",
      "plate \"京AX12345\" is neither an ordinary plate (京A12345) nor a new-energy plate (京AD12345 or 京A12345D)"
    ),
    (
      "京A1234567",
      "plate \"京A1234567\" is neither an ordinary plate (京A12345) nor a new-energy plate (京AD12345 or 京A12345D)"
    ),
  ])
  func rejects(_ text: String, _ message: String) {
    #expect(throws: DomainError(.invalidData, message)) { try Plate(text) }
  }
}
