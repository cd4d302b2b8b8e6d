import Foundation
import RoadsideCentral
import RoadsideCredentials
import RoadsideDomain
import RoadsideFixtures
import RoadsideHolder
import RoadsideStorage
import Testing

/// Building a world in linear time: phones issued and applied for in batches, the mandates
/// found by an index, the phone files flat and flushed once.
@Suite struct BulkIssuanceTests {
  let issuerSeed = [UInt8](repeating: 9, count: 32)

  func store(_ label: String) throws -> (CentralService, URL) {
    let home = temporaryDirectory(label)
    let central = try CentralService.initialise(
      path: home.appendingPathComponent("central.sqlite").path, fixtures: defaultFixtures,
      source: "default", clock: FixedClock(fixedNow), issuerKeySeed: issuerSeed)
    return (central, home)
  }

  func eligible(_ central: CentralService) throws -> [Licence] {
    try central.licenceRecords(LicenceFilter(status: .normal)).filter {
      $0.photo != nil && !$0.isExpired(on: fixedNow.chinaDate)
    }
  }

  func deviceKey(_ index: Int) -> [UInt8] {
    (0..<32).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0) }
  }

  @Test func aBatchIssuesExactlyWhatOneByOneIssuanceDoes() throws {
    let (single, _) = try store("single")
    let (batch, _) = try store("batch")
    let licences = try eligible(single)
    // Enough that the signing runs on several threads, not on the caller's alone.
    #expect(licences.count >= ParallelMap.sequentialBelow)
    var random = SeededRandom(seed: 7)
    func salt() -> [UInt8] { (0..<12).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
    let one = try licences.enumerated().map { index, licence in
      try single.issueCredential(licence.number, devicePublicKey: deviceKey(index), salt: salt)
    }
    random = SeededRandom(seed: 7)
    let many = try batch.issueCredentials(
      licences.enumerated().map { CredentialRequest($1.number, devicePublicKey: deviceKey($0)) },
      salt: salt)
    #expect(many.map(\.credential) == one)
    for (index, licence) in licences.enumerated() {
      #expect(
        try batch.issuedELicence(licence.number, devicePublicKey: deviceKey(index)) == many[index])
    }
  }

  @Test func aBatchWithOneRefusalRecordsNothing() throws {
    let (central, _) = try store("refused")
    let good = try #require(try eligible(central).first)
    let withheld = try #require(
      try central.licenceRecords(LicenceFilter()).first { $0.status.contains(.withheld) })
    #expect(throws: DomainError.self) {
      try central.issueCredentials(
        [
          CredentialRequest(good.number, devicePublicKey: deviceKey(1)),
          CredentialRequest(withheld.number, devicePublicKey: deviceKey(2)),
        ], salt: { [UInt8](repeating: 0, count: 12) })
    }
    #expect(try central.issuedELicence(good.number, devicePublicKey: deviceKey(1)) == nil)
    // Two applications for one licence: the second is refused, and so is the first.
    #expect(throws: CentralError.self) {
      try central.applyForELicences([
        CredentialRequest(good.number, devicePublicKey: deviceKey(3)),
        CredentialRequest(good.number, devicePublicKey: deviceKey(4)),
      ])
    }
    let application = try central.applyForELicence(good.number, devicePublicKey: deviceKey(3))
    #expect(application.state == .pending)
  }

  @Test func aBuiltStoreFindsALicencesMandatesByIndexAndIsInWALMode() throws {
    let (_, home) = try store("plan")
    let db = try Connection(
      path: home.appendingPathComponent("central.sqlite").path, create: false, readOnly: true)
    let plan = try db.fetchAll(
      "EXPLAIN QUERY PLAN SELECT licence, bank FROM mandates WHERE licence = ? ORDER BY id",
      "110101195701050458"
    ) { $0.text(3) }
    #expect(plan == ["SEARCH mandates USING INDEX mandates_licence (licence=?)"])
    // Built without a WAL, the store is in WAL mode once in place, and sound.
    #expect(try db.journalMode() == "wal")
    #expect(try db.integrityCheck() == ["ok"])
  }

  @Test func provisionedPhonesHoldWhatCentralIssuedThemAndSitFlatInOneFolder() throws {
    let (central, home) = try store("phones")
    let summary = try HolderFixtures.provision(central: central, home: home, seed: 2026)
    let files = try FileManager.default.contentsOfDirectory(
      atPath: HomeLayout(home: home).holdersDirectory.path)
    #expect(files.count == summary.issued + summary.superseded + summary.pending)
    #expect(files.allSatisfy { $0.hasSuffix(".json") && $0.count == 23 })
    var issued = 0
    for file in files {
      let number = try CitizenID(String(file.dropLast(5)))
      let phone = try #require(try HolderPhone.load(home: home, licence: number))
      if let elicence = phone.elicence {
        issued += 1
        #expect(
          try central.issuedELicence(number, devicePublicKey: try phone.devicePublicKey)
            == elicence)
      }
    }
    #expect(issued == summary.issued + summary.superseded)
    // The same seed gives the same phones.
    let (again, otherHome) = try store("phones-again")
    #expect(try HolderFixtures.provision(central: again, home: otherHome, seed: 2026) == summary)
    for file in files {
      let number = try CitizenID(String(file.dropLast(5)))
      #expect(
        try HolderPhone.load(home: home, licence: number)?.deviceKey
          == HolderPhone.load(home: otherHome, licence: number)?.deviceKey)
    }
  }

  @Test func aPhoneOfTheOldLayoutIsReadAndMovedToTheFlatOneAtItsNextSave() throws {
    let home = temporaryDirectory("legacy")
    let layout = HomeLayout(home: home)
    let number = try CitizenID("110101195701050458")
    let phone = HolderPhone(licence: number, deviceKey: deviceKey(5))
    let legacy = layout.legacyPhone(licence: number.value)
    try PrivateFiles.createDirectory(atPath: legacy.deletingLastPathComponent().path)
    try PrivateFiles.write(try phone.encoded(), toPath: legacy.path)
    #expect(try HolderPhone.load(home: home, licence: number)?.deviceKey == phone.deviceKey)
    try phone.save(home: home)
    #expect(!FileManager.default.fileExists(atPath: legacy.deletingLastPathComponent().path))
    #expect(FileManager.default.fileExists(atPath: layout.phone(licence: number.value).path))
    #expect(try HolderPhone.load(home: home, licence: number)?.deviceKey == phone.deviceKey)
  }
}
