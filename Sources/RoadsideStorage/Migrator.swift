/// One step of a schema's history. Versions are 1, 2, 3, … and never change once shipped.
public struct Migration: Sendable {
  public let version: Int
  public let name: String
  public let sql: String
  /// The step rebuilds tables (SQLite cannot change a constraint in place): it runs with
  /// foreign-key enforcement off, and the whole migration then checks every foreign key
  /// before it commits (the procedure of https://sqlite.org/lang_altertable.html §7).
  public let rebuildsTables: Bool

  public init(version: Int, name: String, sql: String, rebuildsTables: Bool = false) {
    self.version = version
    self.name = name
    self.sql = sql
    self.rebuildsTables = rebuildsTables
  }
}

/// Why a database file cannot be used with a schema.
public enum SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file is a SQLite database of another application or another Roadside part.
  case foreignDatabase(path: String, expected: String)
  /// The file was written by a newer Roadside whose schema this build does not know.
  case newerSchema(path: String, found: Int, known: Int)
  /// A migration that rebuilt tables left rows whose foreign keys point nowhere.
  case brokenForeignKeys(path: String, table: String)
  /// An existing file that holds nothing (zero bytes, or a database without tables):
  /// opening it must not silently turn it into an empty store.
  case emptyFile(path: String, expected: String)

  public var description: String {
    switch self {
    case .foreignDatabase(let path, let expected):
      "\(path) is a SQLite database but not a \(expected)"
    case .newerSchema(let path, let found, let known):
      "\(path) has schema version \(found), newer than this build knows (\(known))"
    case .brokenForeignKeys(let path, let table):
      "migrating \(path) left rows of table \(table) pointing nowhere; nothing was changed"
    case .emptyFile(let path, let expected):
      "\(path) holds no tables, so it is not a \(expected)"
    }
  }
}

/// Owns a schema's history: marks the file with an application id and applies the
/// migrations it has not seen, in order, each in the same transaction as its version row.
public struct Migrator: Sendable {
  /// The value of `PRAGMA application_id` that marks files of this schema.
  public let applicationID: Int32
  /// A human name for the schema's files ("Roadside central store").
  public let kind: String
  public let migrations: [Migration]

  public init(applicationID: Int32, kind: String, migrations: [Migration]) {
    precondition(
      migrations.map(\.version) == Array(1...migrations.count),
      "migrations must be numbered 1, 2, 3, … without gaps")
    self.applicationID = applicationID
    self.kind = kind
    self.migrations = migrations
  }

  /// The newest version this build knows.
  public var latestVersion: Int { migrations.last?.version ?? 0 }

  /// Checks that the file belongs to this schema and is not newer than this build,
  /// without changing it.
  public func check(_ db: Connection) throws {
    let id = try db.pragmaInt("application_id")
    let tables = try db.fetchOne("SELECT count(*) FROM sqlite_master") { $0.int(0) } ?? 0
    if id != Int(applicationID) && (id != 0 || tables > 0) {
      throw SchemaError.foreignDatabase(path: db.path, expected: kind)
    }
    let version = try appliedVersion(db)
    if version > latestVersion {
      throw SchemaError.newerSchema(path: db.path, found: version, known: latestVersion)
    }
  }

  /// Applies every migration newer than the file's version. Returns the versions applied.
  /// With `creating: false` (opening a file that should already be a store) a file with
  /// no tables and no application id is refused with ``SchemaError/emptyFile(path:expected:)``.
  @discardableResult
  public func migrate(_ db: Connection, creating: Bool = true) throws -> [Int] {
    if !creating {
      let id = try db.pragmaInt("application_id")
      let tables = try db.fetchOne("SELECT count(*) FROM sqlite_master") { $0.int(0) } ?? 0
      if id == 0 && tables == 0 { throw SchemaError.emptyFile(path: db.path, expected: kind) }
    }
    // `PRAGMA foreign_keys` is a no-op inside a transaction: switch it before.
    let pending = try appliedVersion(db)
    let rebuilding = migrations.contains { $0.version > pending && $0.rebuildsTables }
    if rebuilding { try db.execute("PRAGMA foreign_keys = OFF") }
    defer { if rebuilding { _ = try? db.execute("PRAGMA foreign_keys = ON") } }
    return try db.transaction {
      try check(db)
      if try db.pragmaInt("application_id") == 0 {
        try db.execute("PRAGMA application_id = \(applicationID)")
        try db.executeScript(
          """
          CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL
          ) STRICT;
          """)
      }
      let current = try appliedVersion(db)
      var applied: [Int] = []
      for migration in migrations where migration.version > current {
        try db.executeScript(migration.sql)
        try db.execute(
          "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
          migration.version, migration.name)
        applied.append(migration.version)
      }
      if rebuilding {
        let broken = try db.fetchAll("PRAGMA foreign_key_check") { $0.text(0) }
        if let table = broken.first {
          throw SchemaError.brokenForeignKeys(path: db.path, table: table)
        }
      }
      return applied
    }
  }

  /// The newest version recorded in the file (0 for a new file).
  public func appliedVersion(_ db: Connection) throws -> Int {
    let hasTable =
      try db.fetchOne(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
      ) { $0.int(0) } ?? 0
    guard hasTable > 0 else { return 0 }
    return try db.fetchOne("SELECT coalesce(max(version), 0) FROM schema_migrations") {
      $0.int(0)
    } ?? 0
  }
}
