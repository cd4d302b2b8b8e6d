import Foundation
import RoadsideCentral
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideStorage
import Testing

@Suite struct CentralInitTests {
  @Test func initialisesEveryFixtureRecordAndLogsEachOnceInOrder() throws {
    let service = try makeStore()
    let summary = try service.summary()
    let f = defaultFixtures
    #expect(summary.counts.licences == f.licences.count)
    #expect(summary.counts.vehicles == f.vehicles.count)
    #expect(summary.counts.officers == f.officers.count)
    #expect(summary.counts.terminals == f.terminals.count)
    #expect(summary.counts.decisions == f.decisions.count)
    #expect(summary.counts.offences == OffenceCatalogue.current.offences.count)
    #expect(summary.counts.activeMandates == f.mandates.filter(\.isActive).count)

    let changes = try service.changes(after: 0, limit: Int.max)
    #expect(changes.map(\.seq) == Array(1...Int64(changes.count)))
    #expect(summary.counts.latestSequence == Int64(changes.count))
    // Entities appear in load order, each exactly once (officers once per terminal of their
    // unit, each for that terminal alone).
    let order: [ChangeEntity] = [
      .offence, .terminal, .officer, .licence, .vehicle, .mandate, .decision, .points, .calendar,
    ]
    let officerEntries = changes.filter { $0.entity == .officer }
    let expected = f.officers.flatMap { officer in
      f.terminals.filter { $0.unit == officer.unit }.map { "\(officer.id)→\($0.id)" }
    }
    #expect(officerEntries.map { "\($0.key)→\($0.audience ?? "every terminal")" } == expected)
    #expect(!officerEntries.contains { $0.payload.contains("pbkdf2-sha256$") })
    var lastIndex = 0
    for change in changes {
      let index = order.firstIndex(of: change.entity)!
      #expect(index >= lastIndex, "entity \(change.entity) out of order at \(change.seq)")
      lastIndex = index
    }
    let licenceKeys = changes.filter { $0.entity == .licence }.map(\.key)
    #expect(licenceKeys == f.licences.map(\.number.value))
    #expect(Set(licenceKeys).count == licenceKeys.count)
    #expect(changes.allSatisfy { $0.action == "fixtures.load" && $0.at == fixedNow })
  }

  @Test func licencesWithTwelvePointsAreMarkedB() throws {
    let service = try makeStore()
    for row in try service.licences(LicenceFilter()) where row.points >= 12 {
      #expect(row.status.contains("B"), "licence \(row.number) has \(row.points) points")
    }
    #expect(try service.licences(LicenceFilter(status: .pointsFull)).isEmpty == false)
  }

  @Test func aStoreAlreadyThereIsNotReplaced() throws {
    let dir = temporaryDirectory()
    let path = dir.appendingPathComponent("central.sqlite").path
    let first = try CentralService.initialise(
      path: path, fixtures: defaultFixtures, source: "default", clock: FixedClock(fixedNow))
    let before = try first.summary().counts
    #expect(throws: CentralError.self) {
      try CentralService.initialise(
        path: path, fixtures: FixtureSet(), source: "x", clock: FixedClock(fixedNow))
    }
    #expect(
      try CentralService.open(path: path, clock: FixedClock(fixedNow)).summary().counts == before)
  }

  @Test func aFailedInitialisationLeavesNoFile() throws {
    let dir = temporaryDirectory()
    let path = dir.appendingPathComponent("central.sqlite").path
    var broken = defaultFixtures
    broken.vehicles.append(broken.vehicles[0])  // duplicate plate: the schema refuses it
    #expect(throws: SQLiteError.self) {
      try CentralService.initialise(
        path: path, fixtures: broken, source: "broken", clock: FixedClock(fixedNow))
    }
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }

  @Test func refusesAFileThatIsNotACentralStore() throws {
    let dir = temporaryDirectory()
    let garbage = dir.appendingPathComponent("garbage.sqlite").path
    try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: garbage))
    #expect(
      throws: CentralError(
        .unusableStore,
        "\(garbage) is not a SQLite database or is damaged; move it aside and run 'roadside central init'"
      )
    ) {
      try CentralService.open(path: garbage, clock: FixedClock(fixedNow))
    }
    let foreign = dir.appendingPathComponent("foreign.sqlite").path
    try Connection(path: foreign).executeScript("CREATE TABLE notes (body TEXT);")
    #expect(
      throws: CentralError(
        .unusableStore,
        "\(foreign) is a SQLite database but not a Roadside central store; use another --home or run 'roadside central init' in a new one"
      )
    ) {
      try CentralService.open(path: foreign, clock: FixedClock(fixedNow))
    }
    let missing = dir.appendingPathComponent("missing.sqlite").path
    #expect(throws: CentralError(.notFound, "no central store at \(missing)")) {
      try CentralService.open(path: missing, clock: FixedClock(fixedNow))
    }
  }

  @Test func storeFileIsSound() throws {
    let path = temporaryDirectory().appendingPathComponent("central.sqlite").path
    _ = try CentralService.initialise(
      path: path, fixtures: defaultFixtures, source: "default", clock: FixedClock(fixedNow))
    let store = try SQLiteCentralStore.open(path: path)
    #expect(try store.integrityCheck() == ["ok"])
  }
}

@Suite struct AdminChangeLogTests {
  @Test func suspendAppendsExactlyOneLicenceChange() throws {
    let service = try makeStore()
    let licence = try normalLicence(in: service)
    let before = try service.summary().counts.latestSequence
    let outcome = try service.suspend(
      licence.number, until: LocalDate(iso: "2027-05-21"), reason: "drink-driving case 17")
    #expect(outcome.changes.count == 1)
    let change = try #require(outcome.changes.first)
    #expect(change.seq == before + 1)
    #expect(change.entity == .licence && change.key == licence.number.value)
    #expect(change.action == "licence.suspend" && change.reason == "drink-driving case 17")
    #expect(change.at == fixedNow)
    let logged = try decodeLicence(change)
    #expect(logged.status.code == "D" && logged.suspendedUntil == LocalDate(iso: "2027-05-21"))
    #expect(try service.dossier(licence.number).licence == logged)
    #expect(try service.changes(after: before, limit: 10) == outcome.changes)
  }

  @Test func aSequenceOfCommandsLogsEachChangeInOrder() throws {
    let service = try makeStore()
    let licence = try normalLicence(in: service)
    let start = try service.summary().counts.latestSequence
    _ = try service.suspend(licence.number, until: nil, reason: "a")
    _ = try service.reinstate(licence.number, reason: "b")
    _ = try service.withhold(licence.number, reason: "c")
    _ = try service.reinstate(licence.number, reason: "d")
    _ = try service.changeClasses(licence.number, to: licence.classes + [.e], reason: "e")
    _ = try service.revoke(licence.number, reason: "f")
    let changes = try service.changes(after: start, limit: 100)
    #expect(changes.map(\.seq) == Array((start + 1)...(start + 6)))
    #expect(
      changes.map(\.action) == [
        "licence.suspend", "licence.reinstate", "licence.withhold", "licence.reinstate",
        "licence.change-class", "licence.revoke",
      ])
    #expect(changes.map(\.reason) == ["a", "b", "c", "d", "e", "f"])
    #expect(
      try changes.map { try decodeLicence($0).status.code } == ["D", "A", "U", "A", "A", "F"])
    #expect(try decodeLicence(changes[4]).epoch == licence.epoch + 1)
  }

  @Test func aRefusedCommandAppendsNothingAndChangesNothing() throws {
    let service = try makeStore()
    let licence = try normalLicence(in: service)
    let before = try service.summary().counts
    #expect(throws: DomainError.self) { try service.reinstate(licence.number, reason: nil) }
    #expect(throws: DomainError.self) {
      try service.changeClasses(licence.number, to: licence.classes, reason: nil)
    }
    #expect(throws: DomainError.self) {
      try service.suspend(licence.number, until: LocalDate(iso: "2020-01-01"), reason: nil)
    }
    let unknown = CitizenID.make(
      region: 110101, birthDate: LocalDate(iso: "1990-01-01")!, sequence: 999)
    #expect(throws: CentralError.self) { try service.revoke(unknown, reason: nil) }
    #expect(try service.summary().counts == before)
    #expect(try service.dossier(licence.number).licence == licence)
  }

  @Test func renewalStartsANewEpochAndRecordsIt() throws {
    let clock = SteppingClock(fixedNow)
    let service = try makeStore(clock: clock)
    let licence = try normalLicence(in: service)
    let until = try #require(licence.validity.validUntil)
    // Move to 30 days before expiry, inside the 90-day renewal window.
    clock.advance(days: fixedNow.chinaDate.days(until: until) - 30)
    let before = try service.summary().counts.latestSequence
    let outcome = try service.renew(licence.number, reason: "renewal at counter")
    // The licence's change, after the closing of any cycle that ended meanwhile (163号 §15).
    #expect(outcome.changes.map(\.seq) == Array(before + 1...before + Int64(outcome.changes.count)))
    #expect(outcome.changes.last?.entity == .licence)
    #expect(outcome.changes.dropLast().allSatisfy { $0.entity == .points })
    #expect(outcome.licence.epoch == licence.epoch + 1)
    #expect(outcome.licence.validity.validFrom == until)
    let epochs = try service.dossier(licence.number).epochs
    #expect(epochs.last?.epoch == licence.epoch + 1)
    #expect(epochs.last?.reason == "renewal")
  }

  @Test func studyReductionLogsThePointsLedgerOnly() throws {
    let service = try makeStore()
    let row = try #require(
      try service.licences(LicenceFilter(status: .normal)).first { $0.points >= 2 })
    let before = try service.summary().counts.latestSequence
    let outcome = try service.reducePoints(row.number, points: 1, reason: "online study")
    #expect(outcome.changes.count == 1)
    #expect(outcome.changes[0].entity == .points && outcome.changes[0].seq == before + 1)
    let ledger = try JSONDecoder().decode(
      PointsLedger.self, from: Data(outcome.changes[0].payload.utf8))
    #expect(ledger.total(on: fixedNow.chinaDate) == row.points - 1)
    #expect(try service.dossier(row.number).points.total == row.points - 1)
  }

  @Test func listFilters() throws {
    let service = try makeStore()
    let all = try service.licences(LicenceFilter())
    #expect(all.count == defaultFixtures.licences.count)
    let suspended = try service.licences(LicenceFilter(status: .suspended))
    #expect(!suspended.isEmpty && suspended.allSatisfy { $0.status.contains("D") })
    let mandated = try service.licences(LicenceFilter(withMandate: true))
    #expect(mandated.count == defaultFixtures.mandates.filter(\.isActive).count)
    #expect(mandated.allSatisfy { $0.mandate })
    #expect(try service.licences(LicenceFilter(limit: 5)).count == 5)
  }
}
