import Foundation
public import RoadsidePostgres
import RoadsideStorage

/// Advisory-lock keys of the central store on PostgreSQL (one 64-bit key space per
/// database; the values spell "RdsdChg1" and "RdsdSch1" so that nothing else collides).
enum PostgresLocks {
  /// Held from a transaction's first change-log entry to its commit (``Access/append``).
  static let changeLog: Int64 = 0x5264_7364_4368_6731
  /// Held while a schema is created or migrated, so that two nodes starting at once do
  /// not both do it.
  static let schema: Int64 = 0x5264_7364_5363_6831
  /// The seed of `hashtextextended` for record-id locks (``Access/lockInOrder(records:licences:documents:officers:)``).
  static let recordSeed: Int64 = 0x5264_7364_5265_6331
  /// The seed for deduction claims (``PostgresCentralStore/claimDeduction(_:)``).
  static let deductionSeed: Int64 = 0x5264_7364_4465_6431
}

/// The central store in a PostgreSQL database, for a deployment of several central nodes.
/// The same query layer as ``SQLiteCentralStore`` (``Access``) runs on it; what differs is
/// how transactions isolate and lock:
///
/// - a write runs at READ COMMITTED, and what must not race takes a lock before it reads
///   (``CentralWriting/lockInOrder(records:licences:documents:officers:)``): the licence row
///   before the checks a record's licence decides (`duplicate_event`, `points_cross_12`, a
///   void's deduction), the officer row before wrong PINs are counted, the change-log lock
///   before a sequence number or a conflict number is taken;
/// - a write holds back its rows and change-log entries and inserts them in few statements
///   (``WriteBuffer``);
/// - a read runs on one snapshot (REPEATABLE READ, READ ONLY).
///
/// A database holds one store; every node opens the same URL.
public final class PostgresCentralStore: CentralStore {
  let db: PostgresDatabase
  public var url: PostgresURL { db.url }
  /// What the open write transaction holds back (nil outside one); nested transactions
  /// share it, so entries keep the order they were appended in.
  private var openBuffer: WriteBuffer?

  init(db: PostgresDatabase) { self.db = db }

  /// Opens the store in the database at `url`, checking that it is one and that its
  /// schema is one this build knows.
  public static func open(_ url: PostgresURL) throws -> PostgresCentralStore {
    let db = try PostgresDatabase(url)
    let version = try db.transaction { () throws -> Int? in
      try db.execute("SELECT pg_advisory_xact_lock(?)", PostgresLocks.schema)
      guard let version = try appliedVersion(db) else { return nil }
      guard version <= PostgresCentralSchema.version else { return version }
      try upgrade(db, from: version)
      return PostgresCentralSchema.version
    }
    guard let version else {
      throw CentralError(
        .notFound,
        "no central store in \(url); run 'roadside central init --store \(url)' to create one")
    }
    guard version <= PostgresCentralSchema.version else {
      throw CentralError(
        .unusableStore,
        "\(url) has schema version \(version), newer than this build knows (\(PostgresCentralSchema.version)); update roadside"
      )
    }
    return PostgresCentralStore(db: db)
  }

  /// Creates the schema in the empty database at `url` and runs `fill` in the same
  /// transaction: a store is created whole or not at all.
  public static func create<T>(
    _ url: PostgresURL, fill: (PostgresCentralStore) throws -> T
  ) throws -> T {
    let db = try PostgresDatabase(url)
    let store = PostgresCentralStore(db: db)
    return try db.transaction {
      try db.execute("SELECT pg_advisory_xact_lock(?)", PostgresLocks.schema)
      if try appliedVersion(db) != nil {
        throw CentralError(
          .alreadyExists,
          "a central store already exists in \(url); use another database, or drop and recreate that one to start again"
        )
      }
      let tables =
        try db.fetchOne(
          "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ) { $0.int(0) } ?? 0
      guard tables == 0 else {
        throw CentralError(
          .unusableStore,
          "the database of \(url) is not empty: it holds \(tables) table(s) of something else; give central an empty database"
        )
      }
      try db.execute(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)")
      for statement in PostgresCentralSchema.statements { try db.execute(statement) }
      try db.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
        PostgresCentralSchema.base, PostgresCentralSchema.name)
      try upgrade(db, from: PostgresCentralSchema.base)
      return try fill(store)
    }
  }

  /// Applies the upgrades after `version`, each recorded in `schema_migrations`, inside
  /// the caller's transaction (which holds the schema lock).
  static func upgrade(_ db: PostgresDatabase, from version: Int) throws {
    for upgrade in PostgresCentralSchema.upgrades where upgrade.version > version {
      for statement in upgrade.statements { try db.execute(statement) }
      try db.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", upgrade.version,
        upgrade.name)
    }
  }

  /// The schema version the database holds, or nil when it holds no central store.
  static func appliedVersion(_ db: PostgresDatabase) throws -> Int? {
    let exists =
      try db.fetchOne("SELECT to_regclass('schema_migrations') IS NOT NULL") { $0.bool(0) }
      ?? false
    guard exists else { return nil }
    return try db.fetchOne("SELECT max(version) FROM schema_migrations") { $0.optionalInt(0) }
      ?? nil
  }

  public func read<T>(_ body: (any CentralReading) throws -> T) throws -> T {
    // Inside a write, what it holds back is inserted first, so that the read sees it and
    // a read that fails cannot roll it back.
    if db.isInTransaction { try Access(db: db, buffer: openBuffer).flushAll() }
    return try db.transaction(.read) { try body(Access(db: db)) }
  }

  /// A session-level advisory lock on the decision (`pg_try_advisory_lock`: a worker that
  /// finds it taken skips the deduction, as `FOR UPDATE SKIP LOCKED` skips a row). Unlike a
  /// row lock it outlives the transaction, so it covers the bank's answer; the server
  /// releases it when the node's connection ends, so a node killed mid-call holds nothing.
  public func claimDeduction(_ decision: String) throws -> DeductionClaim? {
    let claimed =
      try db.fetchOne(
        "SELECT pg_try_advisory_lock(hashtextextended(?, ?))", decision, PostgresLocks.deductionSeed
      ) { $0.bool(0) } ?? false
    guard claimed else { return nil }
    let db = self.db
    return DeductionClaim {
      _ = try? db.execute(
        "SELECT pg_advisory_unlock(hashtextextended(?, ?))", decision, PostgresLocks.deductionSeed)
    }
  }

  /// Runs `body` in one transaction. A deadlock between nodes (PostgreSQL aborts one of
  /// the two) runs it again from the start, up to ``retries`` times: `body` only reads and
  /// writes the store, so running it again is safe.
  public func write<T>(_ body: (any CentralWriting) throws -> T) throws -> T {
    if db.isInTransaction {
      guard let buffer = openBuffer else {
        // The first write inside a transaction that is not one (`create` fills the store
        // in its own): a deadlock dooms that outer transaction, so no retry here.
        return try writeOnce(body)
      }
      // A write inside another: only the outer one may start again after a deadlock. The
      // outer one's rows and entries are inserted before the savepoint, so that rolling it
      // back takes the nested transaction's alone, buffered or inserted.
      try Access(db: db, buffer: buffer).flushAll()
      do {
        return try db.transaction(.write) { try body(Access(db: db, buffer: buffer)) }
      } catch {
        buffer.discard()
        throw error
      }
    }
    var attempt = 0
    while true {
      do {
        return try writeOnce(body)
      } catch let error as PostgresStoreError where error.isRetryable && attempt < Self.retries {
        attempt += 1
      }
    }
  }

  /// One write transaction with a buffer of its own, inserted before it commits.
  private func writeOnce<T>(_ body: (any CentralWriting) throws -> T) throws -> T {
    let buffer = WriteBuffer()
    openBuffer = buffer
    defer { openBuffer = nil }
    return try db.transaction(.write) {
      let access = Access(db: db, buffer: buffer)
      let result = try body(access)
      try access.flushAll()
      return result
    }
  }

  static let retries = 8
}
