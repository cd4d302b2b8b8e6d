import RoadsideDomain
import Testing

func date(_ text: String) -> LocalDate { LocalDate(iso: text)! }

func sampleLicence(
  classes: [LicenceClass] = [.c1], term: ValidityTerm = .sixYears, from: String = "2021-05-10",
  status: LicenceStatus = .normal
) -> Licence {
  Licence(
    number: try! CitizenID("11010519491231002X"), fileNumber: try! FileNumber("110000123456"),
    name: "王芳", gender: .female, birthDate: date("1949-12-31"), address: "北京市东城区东长安街1号",
    photo: "photo/11010519491231002X.jpg", firstIssued: date("2015-05-10"), classes: classes,
    validity: Validity(term: term, from: date(from)), authority: .beijing, status: status)
}

@Suite struct ValidityTests {
  @Test(arguments: [
    (ValidityTerm.sixYears, "2021-05-10", "2027-05-10"),
    (.tenYears, "2021-05-10", "2031-05-10"),
    (.sixYears, "2020-02-29", "2026-02-28"),
  ])
  func endDates(_ term: ValidityTerm, _ from: String, _ until: String) {
    #expect(Validity(term: term, from: date(from)).validUntil == date(until))
  }

  @Test func longTermNeverExpires() {
    let v = Validity(term: .longTerm, from: date("2010-01-01"))
    #expect(v.validUntil == nil)
    #expect(!v.isExpired(on: date("2099-12-31")))
    #expect(v.display == "2010-01-01 起长期")
  }

  @Test(arguments: [("2027-05-10", false), ("2027-05-11", true), ("2021-05-10", false)])
  func expiryIsTheDayAfterTheLastValidDay(_ on: String, _ expired: Bool) {
    #expect(Validity(term: .sixYears, from: date("2021-05-10")).isExpired(on: date(on)) == expired)
  }

  @Test(arguments: [
    (ValidityTerm.sixYears, false, ValidityTerm.tenYears), (.sixYears, true, .sixYears),
    (.tenYears, false, .longTerm), (.tenYears, true, .tenYears),
  ])
  func renewalTerm(_ term: ValidityTerm, _ fullScore: Bool, _ next: ValidityTerm) {
    #expect(term.next(fullScoreInTerm: fullScore) == next)
  }
}

@Suite struct LicenceTests {
  @Test func permitsDrivingOnlyWhenNormalAndValid() {
    let licence = sampleLicence()
    #expect(licence.permitsDriving(on: date("2026-11-22")))
    #expect(!licence.permitsDriving(on: date("2027-05-11")))
    #expect(
      !sampleLicence(status: LicenceStatus(codes: [.suspended])).permitsDriving(
        on: date("2026-11-22")))
  }

  @Test func validationNamesTheField() {
    var licence = sampleLicence()
    licence.gender = .male
    #expect(
      throws: DomainError(
        .invalidData,
        "field \"gender\": the licence number says female (17th digit), the record says male")
    ) {
      try licence.validate()
    }
    var young = sampleLicence()
    young.firstIssued = date("1960-01-01")
    #expect(
      throws: DomainError(
        .invalidData,
        "field \"firstIssued\": 1960-01-01 is before the holder's 18th birthday (1967-12-31), the youngest any class is issued at (公安部令第162号 §14)"
      )
    ) {
      try young.validate()
    }
    var blank = sampleLicence()
    blank.name = "  "
    #expect(
      throws: DomainError(
        .invalidData, "field \"name\": a holder's name must have 1 to 40 characters")
    ) {
      try blank.validate()
    }
  }

  @Test func suspendReinstateRevoke() throws {
    let suspended = try sampleLicence().suspending(until: date("2027-05-01"))
    #expect(suspended.status.code == "D")
    #expect(suspended.suspendedUntil == date("2027-05-01"))
    #expect(throws: DomainError.self) { try suspended.suspending(until: nil) }
    let reinstated = try suspended.reinstating()
    #expect(reinstated.status.code == "A")
    #expect(reinstated.suspendedUntil == nil)
    #expect(
      throws: DomainError(
        .notPermitted,
        "the licence is neither suspended (D) nor withheld (U), so there is nothing to reinstate")
    ) {
      try reinstated.reinstating()
    }
    let revoked = try reinstated.revoking()
    #expect(revoked.status.code == "F")
    #expect(
      throws: DomainError(
        .notPermitted,
        "cannot suspend it: the licence has status F (revoked) and is no longer in force")
    ) {
      try revoked.suspending(until: nil)
    }
  }

  @Test func renewalStartsANewEpochAndTheNextTerm() throws {
    let licence = sampleLicence()
    let renewed = try licence.renewing(on: date("2027-04-01"), fullScoreInTerm: false)
    #expect(renewed.epoch == licence.epoch + 1)
    #expect(renewed.validity.term == .tenYears)
    #expect(renewed.validity.validFrom == date("2027-05-10"))
    let late = try licence.renewing(on: date("2027-08-01"), fullScoreInTerm: true)
    #expect(late.validity.validFrom == date("2027-08-01"))
    #expect(late.validity.term == .sixYears)
    #expect(throws: DomainError.self) {
      try licence.renewing(on: date("2026-11-22"), fullScoreInTerm: false)
    }
    #expect(throws: DomainError.self) {
      try sampleLicence(term: .longTerm).renewing(on: date("2026-11-22"), fullScoreInTerm: false)
    }
  }

  @Test func classChangeStartsANewEpoch() throws {
    let licence = sampleLicence()
    let changed = try licence.changingClasses(to: [.d, .c1])
    #expect(changed.classes == [.c1, .d])
    #expect(changed.epoch == 2)
    #expect(throws: DomainError(.notPermitted, "the licence already permits exactly C1")) {
      try licence.changingClasses(to: [.c1])
    }
  }

  @Test func pointsFullMarksBAndWithholds() {
    let full = sampleLicence().markingPointsFull()
    #expect(full.status.code == "BU")
    #expect(full.clearingPointsFull().status.code == "A")
  }
}
