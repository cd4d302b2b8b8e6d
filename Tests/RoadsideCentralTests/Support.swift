import Foundation
import RoadsideCentral
import RoadsideDomain
import RoadsideFixtures

func temporaryDirectory(_ label: String = "central") -> URL {
  let dir = FileManager.default.temporaryDirectory
    .appendingPathComponent("roadside-\(label)-\(UUID().uuidString)", isDirectory: true)
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir
}

let fixedNow = Timestamp(iso: "2026-11-22T09:30:00+08:00")!

/// The default fixture set, loaded once.
let defaultFixtures: FixtureSet = try! FixtureLoader().load(directory: DefaultFixtures.directory)

func makeStore(clock: any Clock = FixedClock(fixedNow)) throws -> CentralService {
  let path = temporaryDirectory().appendingPathComponent("central.sqlite").path
  return try CentralService.initialise(
    path: path, fixtures: defaultFixtures, source: "default", clock: clock)
}

/// A clock that can be moved, for tests that advance time between operations.
final class SteppingClock: Clock, @unchecked Sendable {
  private let lock = NSLock()
  private var instant: Timestamp
  init(_ start: Timestamp) { instant = start }
  func now() -> Timestamp { lock.withLock { instant } }
  func advance(days: Int) {
    lock.withLock { instant = instant.adding(seconds: Int64(days) * 86_400) }
  }
}

func decodeLicence(_ change: Change) throws -> Licence {
  try JSONDecoder().decode(Licence.self, from: Data(change.payload.utf8))
}

/// The first normal licence with a six-year validity ending after `date`.
func normalLicence(in service: CentralService) throws -> Licence {
  let rows = try service.licences(LicenceFilter(status: .normal))
  for row in rows {
    let licence = try service.dossier(row.number).licence
    if licence.validity.term == .sixYears { return licence }
  }
  return try service.dossier(rows[0].number).licence
}
