import Foundation
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import Testing

@Suite struct DefaultFixtureTests {
  let set = defaultFixtures
  let reference = LocalDate(iso: "2026-11-01")!

  @Test func holdsARealisticPopulation() {
    #expect(set.licences.count >= 200)
    #expect(!set.vehicles.isEmpty && !set.officers.isEmpty && !set.terminals.isEmpty)
    #expect(!set.mandates.isEmpty && !set.decisions.isEmpty)
    let classes = Set(set.licences.flatMap(\.classes))
    #expect(classes.isSuperset(of: [.a1, .a2, .b2, .c1, .c2, .d, .e]))
    let statuses = Set(set.licences.flatMap(\.status.codes))
    #expect(
      statuses.isSuperset(of: [
        .normal, .suspended, .pointsFull, .revoked, .overdueRenewal, .withheld,
      ]))
    #expect(set.licences.contains { $0.validity.term == .longTerm })
    #expect(set.licences.contains { $0.photo == nil })
    #expect(set.vehicles.contains { $0.plate.kind == .newEnergySmall })
    let points = Set(
      set.decisions.compactMap { OffenceCatalogue.current.offence($0.offence)?.points })
    #expect(points.isSuperset(of: [1, 3, 6]))
  }

  @Test func overdueRenewalsAreExpiredAndOthersAreNot() {
    for licence in set.licences where licence.status.contains(.overdueRenewal) {
      #expect(licence.isExpired(on: reference))
    }
  }

  @Test func someVehiclesNeedAClassTheirOwnerLacks() {
    let byNumber = Dictionary(uniqueKeysWithValues: set.licences.map { ($0.number, $0) })
    let mismatched = set.vehicles.filter {
      !PermittedClassTable.current.permits(byNumber[$0.owner]!.classes, toDrive: $0.vehicleClass)
    }
    #expect(!mismatched.isEmpty)
    #expect(mismatched.count < set.vehicles.count / 10)
  }
}

@Suite struct GeneratorTests {
  @Test func sameSeedSameFilesOtherSeedOtherFiles() throws {
    let a = temporaryDirectory("gen"), b = temporaryDirectory("gen"), c = temporaryDirectory("gen")
    let date = LocalDate(iso: "2026-11-01")!
    _ = try FixtureGenerator(licenceCount: 300, seed: 9, referenceDate: date).write(to: a)
    _ = try FixtureGenerator(licenceCount: 300, seed: 9, referenceDate: date).write(to: b)
    _ = try FixtureGenerator(licenceCount: 300, seed: 10, referenceDate: date).write(to: c)
    for name in FixtureLoader.fileNames {
      let left = try Data(contentsOf: a.appendingPathComponent(name))
      #expect(left == (try Data(contentsOf: b.appendingPathComponent(name))), "\(name)")
    }
    #expect(
      try Data(contentsOf: a.appendingPathComponent("licences.jsonl"))
        != Data(contentsOf: c.appendingPathComponent("licences.jsonl")))
  }

  @Test(arguments: [1, 50, 2_000])
  func generatedSetsLoadCleanly(_ count: Int) throws {
    let dir = temporaryDirectory("gen")
    let summary = try FixtureGenerator(
      licenceCount: count, seed: 3, referenceDate: LocalDate(iso: "2026-11-01")!
    )
    .write(to: dir)
    let set = try FixtureLoader().load(directory: dir)
    #expect(set.licences.count == count && summary.licences == count)
    #expect(set.vehicles.count == summary.vehicles)
    #expect(set.decisions.count == summary.decisions)
    #expect(set.mandates.count == summary.mandates)
  }
}

/// A licence's classes come out of the loader in the class table's order, once each, as a
/// terminal's cache stores them: "C6C1" at central would never equal the cache's "C1C6"
/// (found by a 20-terminal simulation in a generated world).
@Test func theLoaderPutsALicencesClassesInTheTablesOrder() throws {
  let dir = temporaryDirectory("classes")
  try FixtureGenerator(licenceCount: 200, seed: 3, referenceDate: LocalDate(iso: "2026-11-01")!)
    .write(to: dir)
  let file = dir.appendingPathComponent("licences.jsonl")
  var lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
  let index = try #require(lines.firstIndex { $0.contains("\"classes\":[\"C1\",\"E\"]") })
  lines[index] = lines[index].replacingOccurrences(
    of: "\"classes\":[\"C1\",\"E\"]", with: "\"classes\":[\"E\",\"C1\",\"E\"]")
  try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
  let set = try FixtureLoader().load(directory: dir)
  #expect(set.licences[index].classes == [.c1, .e])
}

@Suite struct FixtureLoaderErrorTests {
  /// A directory with the default licences.jsonl whose line `line` is replaced by `record`.
  func directory(replacingLine line: Int, of file: String, with record: String) throws -> URL {
    let dir = temporaryDirectory("bad")
    for name in FixtureLoader.fileNames {
      let source = DefaultFixtures.directory.appendingPathComponent(name)
      var lines = try String(contentsOf: source, encoding: .utf8).split(
        separator: "\n", omittingEmptySubsequences: false
      ).map(String.init)
      if name == file { lines[line - 1] = record }
      try lines.joined(separator: "\n").write(
        to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return dir
  }

  func firstLine(_ file: String) throws -> String {
    try String(contentsOf: DefaultFixtures.directory.appendingPathComponent(file), encoding: .utf8)
      .split(separator: "\n")[0].description
  }

  @Test(arguments: [
    (
      "\"number\":\"110114197811271869\"", "\"number\":\"110114197811271868\"",
      "field \"number\": the licence number's check character is 8 but GB 11643 gives 9 for the first 17 digits; check the number for a typo"
    ),
    (
      "\"classes\":[\"C2\"]", "\"classes\":[\"C9\"]",
      "field \"classes[0]\": unknown licence class \"C9\"; valid classes are A1 A2 A3 B1 B2 C1 C2 C3 C4 C5 C6 D E F M N P"
    ),
    ("\"name\":\"魏英\",", "", "field \"name\" is missing"),
    ("\"epoch\":3", "\"epoch\":\"3\"", "field \"epoch\" has the wrong type; expected an integer"),
    (
      "\"epoch\":3", "\"epoch\":3,\"colour\":\"red\"",
      "unknown field \"colour\"; see Fixtures/README.md for the fields of licences.jsonl"
    ),
    (
      "\"code\":\"京A\"", "\"code\":\"京A\",\"extra\":1",
      "unknown field \"authority.extra\"; see Fixtures/README.md for the fields of licences.jsonl"
    ),
    (
      "\"status\":\"A\"", "\"status\":\"AQ\"",
      "field \"status\": unknown licence status code \"Q\"; valid codes are A B C D E F G H I J K M N P R S U Z"
    ),
    (
      "\"gender\":\"female\"", "\"gender\":\"male\"",
      "field \"gender\": the licence number says female (17th digit), the record says male"
    ),
    (
      "\"validFrom\":\"2022-09-30\"", "\"validFrom\":\"2022-09-30\",\"validUntil\":\"2030-01-01\"",
      "field \"validity.validUntil\": a long-term validity from 2022-09-30 ends on no date, not 2030-01-01"
    ),
  ])
  func aBadLicenceRecordIsReportedWithFileAndLine(
    _ find: String, _ replace: String, _ message: String
  ) throws {
    let original = try firstLine("licences.jsonl")
    #expect(original.contains(find), "fixture line 1 changed; update this test")
    let dir = try directory(
      replacingLine: 1, of: "licences.jsonl",
      with: original.replacingOccurrences(of: find, with: replace))
    let path = dir.appendingPathComponent("licences.jsonl").path
    #expect(throws: FixtureError(file: path, line: 1, message: message)) {
      try FixtureLoader().load(directory: dir)
    }
  }

  @Test func notJSON() throws {
    let dir = try directory(replacingLine: 3, of: "licences.jsonl", with: "{\"number\": ")
    #expect(
      throws: FixtureError(
        file: dir.appendingPathComponent("licences.jsonl").path, line: 3, message: "not valid JSON")
    ) {
      try FixtureLoader().load(directory: dir)
    }
  }

  @Test func unknownOffenceAndIllegalFineInDecisions() throws {
    let original = try firstLine("decisions.jsonl")
    let code = original.components(separatedBy: "\"offence\":\"")[1].prefix(4)
    let dir = try directory(
      replacingLine: 1, of: "decisions.jsonl",
      with: original.replacingOccurrences(
        of: "\"offence\":\"\(code)\"", with: "\"offence\":\"9999\""))
    #expect(
      throws: FixtureError(
        file: dir.appendingPathComponent("decisions.jsonl").path, line: 1,
        message:
          "unknown offence code \"9999\"; run 'roadside central offence list' to see the 67 codes of catalogue RS-2026.2"
      )
    ) {
      try FixtureLoader().load(directory: dir)
    }
  }

  @Test func danglingReferencesAndDuplicates() throws {
    let vehicle = try firstLine("vehicles.jsonl")
    let owner = vehicle.components(separatedBy: "\"owner\":\"")[1].prefix(18)
    let stranger = CitizenID.make(
      region: 110101, birthDate: LocalDate(iso: "1990-01-01")!, sequence: 998)
    let dir = try directory(
      replacingLine: 1, of: "vehicles.jsonl",
      with: vehicle.replacingOccurrences(of: String(owner), with: stranger.value))
    #expect(
      throws: FixtureError(
        file: dir.appendingPathComponent("vehicles.jsonl").path, line: 1,
        message: "field \"owner\": no licence 110101********9987 in licences.jsonl"
          .replacingOccurrences(of: "9987", with: String(stranger.value.suffix(4))))
    ) {
      try FixtureLoader().load(directory: dir)
    }
    let licence = try firstLine("licences.jsonl")
    let dup = try directory(replacingLine: 2, of: "licences.jsonl", with: licence)
    #expect(throws: FixtureError.self) { try FixtureLoader().load(directory: dup) }
  }

  @Test func missingDirectoryAndMissingLicences() throws {
    let nowhere = temporaryDirectory("x").appendingPathComponent("nope")
    #expect(
      throws: FixtureError(
        file: nowhere.path, line: nil,
        message: "no such fixture directory; give a folder holding licences.jsonl")
    ) {
      try FixtureLoader().load(directory: nowhere)
    }
    let empty = temporaryDirectory("empty")
    #expect(
      throws: FixtureError(
        file: empty.appendingPathComponent("licences.jsonl").path, line: nil,
        message: "missing; a fixture directory needs at least licences.jsonl")
    ) {
      try FixtureLoader().load(directory: empty)
    }
  }
}

/// The set against the law on the day it describes (its latest date, 2026-11-01 for the
/// default set) or a day the caller names: 公安部令第162号 §14, §16, §17, §65 on licences,
/// 道路交通安全法 §91, §101 on the decisions' measures.
@Suite struct FixtureLawTests {
  let errors = FixtureLoaderErrorTests()

  @Test func theDefaultSetDescribesTheFirstOfNovember() {
    #expect(defaultFixtures.snapshotDate == LocalDate(iso: "2026-11-01"))
  }

  @Test func aLeavingTheSceneDecisionOnALicenceStillAIsRefused() throws {
    let original = try errors.firstLine("decisions.jsonl")
    #expect(original.contains("\"offence\":\"0109\",\"decidedOn\":\"2025-10-30\",\"fineYuan\":200"))
    let dir = try errors.directory(
      replacingLine: 1, of: "decisions.jsonl",
      with: original.replacingOccurrences(
        of: "\"offence\":\"0109\",\"decidedOn\":\"2025-10-30\",\"fineYuan\":200",
        with: "\"offence\":\"0609\",\"decidedOn\":\"2025-10-30\",\"fineYuan\":1000"))
    #expect(
      throws: FixtureError(
        file: dir.appendingPathComponent("decisions.jsonl").path, line: 1,
        message:
          "decision 110000202500000001 for offence 0609 (造成致人轻微伤或者财产损失的交通事故后逃逸) revokes the licence (道路交通安全法 第99条第1款第3项; 吊销: 道路交通安全法 第101条第2款), but licence 110114********1869 has status A on 2026-11-01; set its status to F or remove the decision"
      )
    ) { try FixtureLoader().load(directory: dir) }
  }

  @Test func aDrinkDrivingSuspensionStillRunningNeedsD() throws {
    let original = try errors.firstLine("decisions.jsonl")
    let dir = try errors.directory(
      replacingLine: 1, of: "decisions.jsonl",
      with: original.replacingOccurrences(
        of: "\"offence\":\"0109\",\"decidedOn\":\"2025-10-30\",\"fineYuan\":200",
        with: "\"offence\":\"1201\",\"decidedOn\":\"2026-06-01\",\"fineYuan\":1500"))
    #expect(
      throws: FixtureError(
        file: dir.appendingPathComponent("decisions.jsonl").path, line: 1,
        message:
          "decision 110000202500000001 for offence 1201 (饮酒后驾驶机动车) suspends the licence until 2026-12-01 (道路交通安全法 第91条第1款), but licence 110114********1869 has status A on 2026-11-01; set its status to D or remove the decision"
      )
    ) { try FixtureLoader().load(directory: dir) }
    // Six months on, the suspension has run out and the record stands.
    _ = try FixtureLoader().load(directory: dir, asOf: LocalDate(iso: "2026-12-01")!)
  }

  @Test func aCityBusDriverOfNineteenIsRefused() throws {
    let original = try errors.firstLine("licences.jsonl")
    let young = CitizenID.make(
      region: 110101, birthDate: LocalDate(iso: "2007-05-15")!, sequence: 844)
    let record = original.replacingOccurrences(of: "110114197811271869", with: young.value)
      .replacingOccurrences(
        of: "\"gender\":\"female\"", with: "\"gender\":\"\(young.gender.rawValue)\""
      )
      .replacingOccurrences(of: "1978-11-27", with: "2007-05-15")
      .replacingOccurrences(of: "2006-09-30", with: "2025-09-21")
      .replacingOccurrences(
        of: "\"validFrom\":\"2022-09-30\"", with: "\"validFrom\":\"2025-09-21\""
      )
      .replacingOccurrences(of: "\"classes\":[\"C2\"]", with: "\"classes\":[\"A3\"]")
      .replacingOccurrences(of: "110000000001", with: "110000009999")
    // Line 241 is the empty line after the last record: the new record is appended.
    let dir = try errors.directory(replacingLine: 241, of: "licences.jsonl", with: record)
    #expect(
      throws: FixtureError(
        file: dir.appendingPathComponent("licences.jsonl").path, line: 241,
        message:
          "licence \(young.masked): class A3 (城市公交车) is issued from age 20 (公安部令第162号 §14(一)3), but the holder is 19 on 2026-11-01"
      )
    ) { try FixtureLoader().load(directory: dir) }
  }

  @Test func aHolderWhoTurnsSixtyMustHaveExchangedALargeTruckClass() throws {
    let original = try errors.firstLine("licences.jsonl")
    let dir = try errors.directory(
      replacingLine: 1, of: "licences.jsonl",
      with: original.replacingOccurrences(
        of: "\"classes\":[\"C2\"]", with: "\"classes\":[\"B2\"]"))
    _ = try FixtureLoader().load(directory: dir)
    #expect(
      throws: FixtureError(
        file: dir.appendingPathComponent("licences.jsonl").path, line: 1,
        message:
          "licence 110114********1869: the holder turned 60 on 2038-11-27 and may no longer hold class B2 (大型货车) (公安部令第162号 §65); on 2039-01-01 the record must show the class exchanged"
      )
    ) { try FixtureLoader().load(directory: dir, asOf: LocalDate(iso: "2039-01-01")!) }
  }

  @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
  func generatedSetsObeyTheLaw(_ seed: UInt64) throws {
    let dir = temporaryDirectory("gen")
    _ = try FixtureGenerator(
      licenceCount: 2_000, seed: seed, referenceDate: LocalDate(iso: "2026-11-01")!
    )
    .write(to: dir)
    let set = try FixtureLoader().load(directory: dir)
    #expect(set.snapshotDate == LocalDate(iso: "2026-11-01"))
    #expect(Set(set.licences.flatMap(\.classes)).isSuperset(of: [.a1, .a2, .b1, .b2, .c6]))
  }
}
