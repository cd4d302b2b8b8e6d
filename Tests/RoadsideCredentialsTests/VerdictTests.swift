import RoadsideCredentials
import RoadsideDomain
import Testing

@Suite struct VerdictTests {
  let licence = licences.first { $0.status.codes == [.normal] && $0.classes == [.c2] }!

  func facts(status: String = "A", epoch: Int? = nil, points: Int = 0, validity: Validity? = nil)
    -> LicenceFacts
  {
    LicenceFacts(
      number: licence.number, status: try! LicenceStatus(code: status),
      epoch: epoch ?? licence.epoch,
      validity: validity ?? licence.validity, classes: licence.classes, points: points)
  }

  func decide(
    _ facts: LicenceFacts?, age: Int64? = 60, vehicle: LicenceClass? = .c2,
    disclose: [ClaimName] = ClaimName.allCases
  ) throws -> Verdict {
    let code = try present(try credential(for: licence), disclose: disclose)
    return Verdict.decide(
      presentation: verify(code), facts: facts, cacheAgeSeconds: age, vehicle: vehicle,
      today: now.chinaDate)
  }

  @Test func valid() throws {
    let verdict = try decide(facts())
    #expect(verdict.outcome == .valid && verdict.reasons.isEmpty)
    #expect(
      verdict.sentence
        == "VALID: the e-licence is genuine, fresh and current, and permits driving a C2.")
  }

  @Test(arguments: [
    ("D", 0, "status_not_normal"), ("BU", 12, "status_not_normal points_full"),
    ("A", 13, "points_full"),
  ])
  func invalidByStatusAndPoints(_ status: String, _ points: Int, _ codes: String) throws {
    let verdict = try decide(facts(status: status, points: points))
    #expect(verdict.outcome == .invalid)
    #expect(verdict.reasons.map(\.code).joined(separator: " ") == codes)
  }

  @Test func invalidBySupersededEpochExpiryAndClass() throws {
    #expect(try decide(facts(epoch: licence.epoch + 1)).reasons.map(\.code) == ["superseded_epoch"])
    let expired = Validity(term: .sixYears, from: LocalDate(iso: "2019-01-01")!)
    #expect(try decide(facts(validity: expired)).reasons.map(\.code) == ["licence_expired"])
    #expect(try decide(facts(), vehicle: .b2).reasons.map(\.code) == ["class_not_permitted"])
  }

  @Test func undeterminedIsNeverInvalid() throws {
    let absent = try decide(nil)
    #expect(absent.outcome == .undetermined && absent.reasons.map(\.code) == ["not_in_cache"])
    let stale = try decide(facts(status: "F"), age: 25 * 3600)
    #expect(stale.outcome == .undetermined && stale.reasons.map(\.code) == ["cache_stale"])
    let neverSynced = try decide(facts(), age: nil)
    #expect(neverSynced.outcome == .undetermined)
    let behind = try decide(facts(epoch: licence.epoch - 1))
    #expect(behind.outcome == .undetermined && behind.reasons.map(\.code) == ["cache_behind"])
    let rental = try decide(facts(), disclose: [.classes, .validFrom, .validUntil])
    #expect(
      rental.outcome == .undetermined && rental.reasons.map(\.code) == ["number_not_disclosed"])
  }

  @Test func aFailedPresentationIsInvalidWithItsReason() {
    let verdict = Verdict.decide(
      presentation: .failure(.replay), facts: facts(), cacheAgeSeconds: 60, vehicle: .c2,
      today: now.chinaDate)
    #expect(verdict.outcome == .invalid)
    #expect(verdict.sentence == "INVALID: this exact code was already presented (a replay).")
  }

  @Test func everyFailureHasASentence() {
    for failure in PresentationFailure.allCases {
      #expect(Verdict.reason(for: failure).code == failure.rawValue)
      #expect(!Verdict.reason(for: failure).sentence.isEmpty)
    }
  }
}
