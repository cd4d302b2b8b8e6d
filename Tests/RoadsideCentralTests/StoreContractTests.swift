import Foundation
import NIOCore
import NIOPosix
import RoadsideDomain
import RoadsideFixtures
import RoadsidePostgres
import RoadsideProtocol
import RoadsideStorage
import Testing

@testable import RoadsideCentral

/// The central store's engines. SQLite always; PostgreSQL when `ROADSIDE_TEST_POSTGRES_URL`
/// names a server (`.ci/run` starts one; so does `scripts/postgres.sh start`).
enum StoreEngine: String, CaseIterable, CustomStringConvertible, Sendable {
  case sqlite
  case postgresql

  var description: String { rawValue }

  static let server: PostgresURL? = ProcessInfo.processInfo.environment[
    "ROADSIDE_TEST_POSTGRES_URL"
  ].flatMap { $0.isEmpty ? nil : try? PostgresURL($0) }

  static var available: [StoreEngine] { server == nil ? [.sqlite] : [.sqlite, .postgresql] }

  /// Where a new store of this engine goes: a path in a new directory, or a new database.
  func freshLocation(_ label: String) throws -> CentralStoreLocation {
    switch self {
    case .sqlite:
      return .file(temporaryDirectory(label).appendingPathComponent("central.sqlite").path)
    case .postgresql:
      let server = try #require(StoreEngine.server)
      let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
      return .postgresql(try server.creatingDatabase("roadside_\(label)_\(suffix.prefix(12))"))
    }
  }

  func initialise(_ label: String, clock: any Clock = FixedClock(fixedNow)) throws
    -> CentralService
  {
    try CentralService.initialise(
      try freshLocation(label), fixtures: defaultFixtures, source: "default", clock: clock)
  }
}

/// What a store holds, read back through the service: everything the contract says must
/// come out as it went in.
struct StoreContents: Equatable {
  let counts: StoreCounts
  let licences: [Licence]
  let dossiers: [LicenceDossier]
  let changes: [Change]
  let officers: [OfficerState]
  let terminals: [TerminalState]
  let offences: [Offence]

  /// Dossiers first: reading one brings the licence's points up to date (the change log
  /// records that once), so what is counted after them is what a second reading counts.
  init(_ service: CentralService) throws {
    let numbers = try service.store.read { try $0.licences(LicenceFilter()) }.map(\.number)
    dossiers = try numbers.prefix(40).map { try service.dossier($0) }
    licences = try service.store.read { try $0.licences(LicenceFilter()) }
    counts = try service.store.read { try $0.counts() }
    changes = try service.changes(after: 0, limit: 1_000_000)
    officers = try service.officers()
    terminals = try service.terminals()
    offences = try service.offences()
  }
}

/// One contract, every engine: the same fixtures in, the same domain values out; the
/// schema's constraints refuse the same writes; a failed write leaves nothing.
@Suite struct StoreContractTests {
  @Test(.enabled(if: StoreEngine.server != nil, "needs ROADSIDE_TEST_POSTGRES_URL"))
  func postgresqlHoldsWhatSQLiteHolds() throws {
    let sqlite = try StoreContents(StoreEngine.sqlite.initialise("contents"))
    let postgresql = try StoreContents(StoreEngine.postgresql.initialise("contents"))
    #expect(sqlite.counts == postgresql.counts)
    #expect(sqlite.licences == postgresql.licences)
    #expect(sqlite.dossiers == postgresql.dossiers)
    #expect(sqlite.changes.count == postgresql.changes.count)
    #expect(sqlite.changes == postgresql.changes)
    #expect(sqlite.officers == postgresql.officers)
    #expect(sqlite.terminals == postgresql.terminals)
    #expect(sqlite.offences == postgresql.offences)
  }

  @Test(arguments: StoreEngine.available)
  func theSchemaRefusesWhatBreaksItsRules(_ engine: StoreEngine) throws {
    let service = try engine.initialise("constraints")
    let before = try StoreContents(service)
    let active = try #require(defaultFixtures.mandates.first { $0.revokedOn == nil })
    // A second active mandate for the same licence.
    #expect(throws: (any Error).self) {
      try service.store.write {
        try $0.insert(
          MandateRecord(
            licence: active.licence, bank: active.bank, account: "6222000000000000000",
            authorisedOn: active.authorisedOn))
      }
    }
    // A licence number that is already there.
    let licence = try #require(before.licences.first)
    #expect(throws: (any Error).self) { try service.store.write { try $0.insert(licence) } }
    // A record of a terminal central does not know (a foreign key).
    #expect(throws: (any Error).self) {
      try service.store.write {
        try $0.insert(
          StoredRecord(
            recordID: "r-1", terminal: "T-XX-9999", terminalSeq: 1, kind: "check",
            createdAt: fixedNow, receivedAt: fixedNow, payload: "{}", outcome: .accepted,
            reason: nil, conflictID: nil))
      }
    }
    // A meta value, a change, then a failure: the whole write is undone.
    struct Planned: Error {}
    #expect(throws: Planned.self) {
      try service.store.write {
        try $0.setMeta("fixtures", "overwritten")
        try $0.append(
          NewChange(entity: .licence, key: licence.number.value, payload: "{}"), at: fixedNow,
          action: "test", reason: nil)
        throw Planned()
      }
    }
    #expect(try StoreContents(service) == before)
    #expect(try service.summary().fixtures == "default")
  }

  /// What a write has written is there for its own reads, for a read inside it and at its
  /// commit; what a failed nested write wrote is gone, from the store and from what the
  /// write remembers. On PostgreSQL this is ``WriteBuffer`` holding rows back; on SQLite,
  /// plain statements and a savepoint.
  @Test(arguments: StoreEngine.available)
  func aWriteSeesWhatItHoldsBackAndAFailedNestedWriteLeavesNothing(_ engine: StoreEngine)
    throws
  {
    let service = try engine.initialise("buffer")
    func record(_ id: String, seq: Int64) -> StoredRecord {
      StoredRecord(
        recordID: id, terminal: "T-BJ-0001", terminalSeq: seq, kind: "check",
        createdAt: fixedNow, receivedAt: fixedNow, payload: "{}", outcome: .accepted,
        reason: nil, conflictID: nil)
    }
    func session(at seconds: Int64) -> TerminalSession {
      let at = Timestamp(secondsSinceEpoch: fixedNow.secondsSinceEpoch + seconds)
      return TerminalSession(
        terminal: "T-BJ-0001", officer: "010001", startedAt: fixedNow, lastActivityAt: at)
    }
    struct Planned: Error {}
    try service.store.write { tx throws -> Void in
      try tx.insert(record("r-outer", seq: 1))
      try tx.save(session(at: 60))
      #expect(try tx.record("r-outer") != nil, "its own read")
      #expect(try service.store.read { try $0.record("r-outer") } != nil, "a read inside it")
      #expect(
        try service.store.read { try $0.session(terminal: "T-BJ-0001") } == session(at: 60))
      #expect(throws: Planned.self) {
        try service.store.write { nested throws -> Void in
          try nested.insert(record("r-nested", seq: 2))
          try nested.save(session(at: 120))
          #expect(try nested.session(terminal: "T-BJ-0001") == session(at: 120))
          throw Planned()
        }
      }
      #expect(try tx.session(terminal: "T-BJ-0001") == session(at: 60), "nested save undone")
      #expect(try tx.record("r-nested") == nil)
    }
    try service.store.read { tx throws -> Void in
      #expect(try tx.record("r-outer") != nil)
      #expect(try tx.record("r-nested") == nil)
      #expect(try tx.session(terminal: "T-BJ-0001") == session(at: 60))
    }
  }

  @Test(arguments: StoreEngine.available)
  func aStoreIsCreatedOnceAndReopened(_ engine: StoreEngine) throws {
    let location = try engine.freshLocation("reopen")
    let clock = FixedClock(fixedNow)
    let first = try CentralService.initialise(
      location, fixtures: defaultFixtures, source: "default", clock: clock)
    let again = #expect(throws: CentralError.self) {
      _ = try CentralService.initialise(
        location, fixtures: defaultFixtures, source: "default", clock: clock)
    }
    #expect(again?.kind == .alreadyExists)
    #expect(try StoreContents(CentralService.open(location, clock: clock)) == StoreContents(first))
  }
}

/// What only the PostgreSQL store has: URLs, an empty or foreign database, a server that is
/// not there.
@Suite struct PostgresStoreTests {
  @Test(arguments: [
    ("postgresql://host/db", "the store URL names no user"),
    ("postgresql://user@/db", "the store URL names no host"),
    ("postgresql://user@host", "the store URL names no database"),
    (
      "postgresql://user@host/db?sslmode=verify-full",
      "the store URL's parameter 'sslmode=verify-full' is not understood (only sslmode=disable or sslmode=require)"
    ),
  ])
  func malformedURLsSayWhatIsWrong(_ text: String, _ why: String) {
    let error = #expect(throws: PostgresStoreError.self) { _ = try PostgresURL(text) }
    #expect(error?.kind == .malformedURL)
    #expect(
      error?.description
        == "\(why); a store URL is written postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
  }

  @Test func aPasswordIsNeverShown() throws {
    let url = try PostgresURL("postgresql://central:s3cret@db.example:6543/roadside")
    #expect(url.description == "postgresql://central:***@db.example:6543/roadside")
    #expect(url.password == "s3cret" && url.port == 6543 && url.database == "roadside")
    // A percent-escape is decoded once, and written back as it came.
    let escaped = try PostgresURL("postgresql://central:p%2541@db.example/roadside")
    #expect(escaped.password == "p%41")
    #expect(escaped.connectionString == "postgresql://central:p%2541@db.example:5432/roadside")
    #expect(try CentralStoreLocation("central.sqlite") == .file("central.sqlite"))
  }

  @Test func aServerThatIsNotThereIsUnavailable() throws {
    // Port 1 on loopback: nothing listens there.
    let error = #expect(throws: PostgresStoreError.self) {
      _ = try PostgresDatabase(PostgresURL("postgresql://roadside@127.0.0.1:1/central"))
    }
    #expect(error?.kind == .unavailable)
    #expect(
      error?.description.hasPrefix(
        "cannot reach the PostgreSQL store at postgresql://roadside@127.0.0.1:1/central: ") == true)
    #expect(
      error?.description.hasSuffix(
        "; check that the server runs, the user may log in and the database exists") == true)
  }

  @Test(.enabled(if: StoreEngine.server != nil, "needs ROADSIDE_TEST_POSTGRES_URL"))
  func anEmptyOrForeignDatabaseIsNotAStore() throws {
    guard case .postgresql(let empty) = try StoreEngine.postgresql.freshLocation("empty") else {
      return
    }
    let missing = #expect(throws: CentralError.self) {
      _ = try CentralService.open(.postgresql(empty), clock: FixedClock(fixedNow))
    }
    #expect(missing?.kind == .notFound)
    #expect(
      missing?.description
        == "no central store in \(empty); run 'roadside central init --store \(empty)' to create one"
    )
    let other = try PostgresDatabase(empty)
    try other.execute("CREATE TABLE somebody_elses (id BIGINT)")
    let foreign = #expect(throws: CentralError.self) {
      _ = try CentralService.initialise(
        .postgresql(empty), fixtures: defaultFixtures, source: "default",
        clock: FixedClock(fixedNow))
    }
    #expect(
      foreign?.description
        == "the database of \(empty) is not empty: it holds 1 table(s) of something else; give central an empty database"
    )
    // Nothing of a store was left behind by the refused init.
    #expect(
      try other.fetchOne("SELECT to_regclass('licences') IS NULL") { $0.bool(0) } == true)
  }

  /// A node's connections are released wherever its last reference goes, which may be an
  /// event loop thread of the HTTP server that shut down (seen in `bench central`). NIO
  /// traps a wait there; the connection must close without one, and the server must see it
  /// go.
  @Test(.enabled(if: StoreEngine.server != nil, "needs ROADSIDE_TEST_POSTGRES_URL"))
  func aConnectionReleasedOnAnEventLoopClosesWithoutWaitingThere() throws {
    guard case .postgresql(let url) = try StoreEngine.postgresql.freshLocation("released") else {
      return
    }
    let observer = try PostgresDatabase(try #require(StoreEngine.server))
    func connections() throws -> Int {
      try observer.fetchOne(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = ?", url.database
      ) { $0.int(0) } ?? -1
    }
    final class Holder: @unchecked Sendable { var database: PostgresDatabase? }
    let holder = Holder()
    holder.database = try PostgresDatabase(url)
    #expect(try holder.database?.fetchOne("SELECT 1") { $0.int(0) } == 1)
    #expect(try connections() == 1)
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    try loop.submit { holder.database = nil }.wait()
    var waited = 0
    while try connections() != 0, waited < 100 {
      Thread.sleep(forTimeInterval: 0.1)
      waited += 1
    }
    #expect(try connections() == 0)
  }

  /// `.ci/run` says it started a server: then the PostgreSQL tests must not be skipped.
  @Test func aServerIsThereWhenCISaysSo() throws {
    guard ProcessInfo.processInfo.environment["ROADSIDE_REQUIRE_POSTGRES"] == "1" else { return }
    let server = try #require(StoreEngine.server, "ROADSIDE_TEST_POSTGRES_URL is not set")
    let db = try PostgresDatabase(server)
    #expect(try db.fetchOne("SELECT 1") { $0.int(0) } == 1)
  }

  /// A PostgreSQL write remembers the officers and sessions it read until a statement that
  /// may write or lock a row: a plain `SELECT` keeps them, anything else forgets them.
  @Test(arguments: [
    ("SELECT officer FROM terminal_sessions WHERE terminal = ?", true),
    ("  select number FROM licences WHERE number = ?", true),
    ("SELECT pg_advisory_xact_lock(?)", true),
    ("SELECT 1 FROM licences WHERE number = ? FOR NO KEY UPDATE", false),
    ("SELECT 1 FROM officers WHERE id = ? FOR UPDATE", false),
    ("SELECT\n  seq, at FROM audit_entries", true),
    ("INSERT INTO applications (id) VALUES (?) RETURNING id", false),
    ("WITH gone AS (DELETE FROM request_nonces RETURNING 1) SELECT count(*) FROM gone", false),
    ("UPDATE officers SET pin_failures = 0", false),
    ("SELECTED", false),
  ])
  func onlyAPlainSelectKeepsTheRememberedRows(sql: String, onlyReads: Bool) {
    #expect(BufferedDatabase.onlyReads(sql) == onlyReads)
  }

  @Test func thePostgreSQLSchemaIsAtTheSQLiteSchemasVersion() {
    #expect(PostgresCentralSchema.version == CentralSchema.migrator.latestVersion)
  }
}
