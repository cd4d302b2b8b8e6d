import Foundation
import RoadsideStorage
import Testing

func temporaryDatabasePath(_ name: String = "test.sqlite") -> String {
  let dir = FileManager.default.temporaryDirectory
    .appendingPathComponent("roadside-storage-\(UUID().uuidString)")
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir.appendingPathComponent(name).path
}

@Suite struct ConnectionTests {
  @Test func opensInWALModeWithForeignKeysAndFullSync() throws {
    let db = try Connection(path: temporaryDatabasePath(), durability: .full)
    #expect(try db.journalMode() == "wal")
    #expect(try db.pragmaInt("foreign_keys") == 1)
    #expect(try db.pragmaInt("synchronous") == 2)  // FULL
    let normal = try Connection(path: temporaryDatabasePath(), durability: .normal)
    #expect(try normal.pragmaInt("synchronous") == 1)  // NORMAL
  }

  @Test func typedBindAndReadRoundTrip() throws {
    let db = try Connection(path: temporaryDatabasePath())
    try db.executeScript(
      "CREATE TABLE t (i INTEGER, s TEXT, d REAL, b BLOB, f INTEGER, n TEXT) STRICT")
    let text = "京A12345 张三 ✓"
    try db.execute(
      "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", Int64(9_007_199_254_740_993), text, 2.5,
      [UInt8]([0, 1, 255]), true, String?.none)
    try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", -1, "", 0.0, [UInt8](), false, "x")
    let rows = try db.fetchAll("SELECT i, s, d, b, f, n FROM t ORDER BY rowid") { row in
      (row.int64(0), row.text(1), row.double(2), row.blob(3), row.bool(4), row.optionalText(5))
    }
    #expect(rows.count == 2)
    #expect(rows[0].0 == 9_007_199_254_740_993)
    #expect(rows[0].1 == text)
    #expect(rows[0].2 == 2.5)
    #expect(rows[0].3 == [0, 1, 255])
    #expect(rows[0].4 == true)
    #expect(rows[0].5 == nil)
    #expect(rows[1].1 == "")
    #expect(rows[1].5 == "x")
    #expect(rows[1].4 == false)
  }

  @Test func preparedStatementsAreCachedAndReused() throws {
    let db = try Connection(path: temporaryDatabasePath())
    try db.executeScript("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL) STRICT")
    let before = db.cachedStatementCount
    for i in 0..<100 {
      try db.execute("INSERT INTO t (k, v) VALUES (?, ?)", "k\(i)", i)
    }
    #expect(db.cachedStatementCount == before + 1)
    let first = try db.statement("SELECT v FROM t WHERE k = ?")
    let again = try db.statement("SELECT v FROM t WHERE k = ?")
    #expect(first === again)
    #expect(try db.fetchOne("SELECT v FROM t WHERE k = ?", "k42") { $0.int(0) } == 42)
  }

  @Test func nestedUseOfTheSameQueryGetsItsOwnStatement() throws {
    let db = try Connection(path: temporaryDatabasePath())
    try db.executeScript("CREATE TABLE t (v INTEGER) STRICT; INSERT INTO t VALUES (1), (2), (3);")
    let pairs = try db.fetchAll("SELECT v FROM t WHERE v >= ? ORDER BY v", 1) { outer in
      let v = outer.int(0)
      let inner = try db.fetchAll("SELECT v FROM t WHERE v >= ? ORDER BY v", v) { $0.int(0) }
      return inner.count
    }
    #expect(pairs == [3, 2, 1])
  }

  @Test func transactionCommitsOnReturnAndRollsBackOnThrow() throws {
    let db = try Connection(path: temporaryDatabasePath())
    try db.executeScript("CREATE TABLE t (v INTEGER NOT NULL) STRICT")
    try db.transaction { try db.execute("INSERT INTO t VALUES (?)", 1) }
    struct Boom: Error {}
    #expect(throws: Boom.self) {
      try db.transaction {
        try db.execute("INSERT INTO t VALUES (?)", 2)
        throw Boom()
      }
    }
    #expect(!db.isInTransaction)
    #expect(try db.fetchAll("SELECT v FROM t") { $0.int(0) } == [1])
  }

  @Test func nestedTransactionRollsBackOnlyTheInnerWork() throws {
    let db = try Connection(path: temporaryDatabasePath())
    try db.executeScript("CREATE TABLE t (v INTEGER NOT NULL) STRICT")
    struct Inner: Error {}
    try db.transaction {
      try db.execute("INSERT INTO t VALUES (?)", 1)
      do {
        try db.transaction {
          try db.execute("INSERT INTO t VALUES (?)", 2)
          throw Inner()
        }
      } catch is Inner {}
      try db.execute("INSERT INTO t VALUES (?)", 3)
    }
    #expect(try db.fetchAll("SELECT v FROM t ORDER BY v") { $0.int(0) } == [1, 3])
  }

  @Test func errorsCarryMessageAndStatementButNeverBoundValues() throws {
    let db = try Connection(path: temporaryDatabasePath())
    try db.executeScript("CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT NOT NULL) STRICT")
    let secretID = "110105194912310021"
    try db.execute("INSERT INTO people VALUES (?, ?)", secretID, "王芳")
    let error = try #require(throws: SQLiteError.self) {
      try db.execute("INSERT INTO people VALUES (?, ?)", secretID, "王芳")
    }
    do {
      #expect(error.isConstraintViolation)
      #expect(error.sql == "INSERT INTO people VALUES (?, ?)")
      #expect(error.description.contains("UNIQUE constraint failed: people.id"))
      #expect(error.description.contains("INSERT INTO people VALUES (?, ?)"))
      #expect(!error.description.contains(secretID))
      #expect(!error.description.contains("王芳"))
    }
  }

  @Test func foreignKeysAreEnforced() throws {
    let db = try Connection(path: temporaryDatabasePath())
    try db.executeScript(
      """
      CREATE TABLE parent (id INTEGER PRIMARY KEY) STRICT;
      CREATE TABLE child (pid INTEGER NOT NULL REFERENCES parent(id)) STRICT;
      """)
    #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO child VALUES (?)", 7) }
  }

  @Test func aFileThatIsNotADatabaseFailsAtOpen() throws {
    let path = temporaryDatabasePath()
    try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
    let error = try #require(throws: SQLiteError.self) { _ = try Connection(path: path) }
    #expect(error.isNotADatabase)
  }

  @Test func integrityCheckReportsOk() throws {
    let db = try Connection(path: temporaryDatabasePath())
    try db.executeScript("CREATE TABLE t (v INTEGER) STRICT; INSERT INTO t VALUES (1);")
    #expect(try db.integrityCheck() == ["ok"])
  }
}

@Suite struct MigratorTests {
  let migrator = Migrator(
    applicationID: 0x5254_5354, kind: "test store",
    migrations: [
      Migration(version: 1, name: "create", sql: "CREATE TABLE a (v INTEGER) STRICT;"),
      Migration(version: 2, name: "add b", sql: "CREATE TABLE b (v INTEGER) STRICT;"),
    ])

  @Test func appliesEachMigrationOnceInOrder() throws {
    let path = temporaryDatabasePath()
    let db = try Connection(path: path)
    #expect(try migrator.migrate(db) == [1, 2])
    #expect(try migrator.migrate(db) == [])
    #expect(try migrator.appliedVersion(db) == 2)
    #expect(try db.pragmaInt("application_id") == 0x5254_5354)
    let names = try db.fetchAll("SELECT name FROM schema_migrations ORDER BY version") {
      $0.text(0)
    }
    #expect(names == ["create", "add b"])
  }

  @Test func appliesOnlyTheNewOnesToAnOlderFile() throws {
    let path = temporaryDatabasePath()
    let old = Migrator(
      applicationID: migrator.applicationID, kind: migrator.kind,
      migrations: Array(migrator.migrations.prefix(1)))
    try old.migrate(try Connection(path: path))
    #expect(try migrator.migrate(try Connection(path: path)) == [2])
  }

  @Test func refusesAForeignDatabase() throws {
    let path = temporaryDatabasePath()
    let db = try Connection(path: path)
    try db.executeScript("CREATE TABLE someone_elses (x INTEGER);")
    #expect(throws: SchemaError.foreignDatabase(path: path, expected: "test store")) {
      try migrator.migrate(db)
    }
    #expect(
      try db.fetchOne("SELECT count(*) FROM sqlite_master WHERE name = 'a'") { $0.int(0) } == 0)
  }

  @Test func refusesAFileFromANewerBuild() throws {
    let path = temporaryDatabasePath()
    try migrator.migrate(try Connection(path: path))
    let older = Migrator(
      applicationID: migrator.applicationID, kind: migrator.kind,
      migrations: Array(migrator.migrations.prefix(1)))
    #expect(throws: SchemaError.newerSchema(path: path, found: 2, known: 1)) {
      try older.check(try Connection(path: path))
    }
  }

  @Test func aFailingMigrationLeavesTheFileAsItWas() throws {
    let path = temporaryDatabasePath()
    let broken = Migrator(
      applicationID: migrator.applicationID, kind: migrator.kind,
      migrations: migrator.migrations + [
        Migration(
          version: 3, name: "broken", sql: "CREATE TABLE c (v INTEGER); SELECT nope FROM nowhere;")
      ])
    let db = try Connection(path: path)
    #expect(throws: SQLiteError.self) { try broken.migrate(db) }
    #expect(try migrator.appliedVersion(db) == 0)
    #expect(
      try db.fetchOne("SELECT count(*) FROM sqlite_master WHERE name IN ('a', 'b', 'c')") {
        $0.int(0)
      } == 0)
  }
}

/// The simulation's power cut in the middle of an operation: the commits allowed go
/// through, the next one and every later one are rolled back, and the file opened again
/// holds exactly what was committed before the cut.
@Suite struct CommitFailureTests {
  @Test func commitsAfterTheBudgetAreRolledBack() throws {
    let path = temporaryDatabasePath()
    let db = try Connection(path: path)
    try db.executeScript("CREATE TABLE t (n INTEGER) STRICT")
    db.failCommits(after: 2)
    try db.execute("INSERT INTO t VALUES (1)")  // commit 1, autocommit
    try db.transaction { try db.execute("INSERT INTO t VALUES (2)") }  // commit 2
    #expect(throws: SQLiteError.self) {
      try db.transaction {
        try db.execute("INSERT INTO t VALUES (3)")
        try db.execute("INSERT INTO t VALUES (4)")
      }
    }
    #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO t VALUES (5)") }
    let reopened = try Connection(path: path)
    #expect(try reopened.fetchAll("SELECT n FROM t ORDER BY n") { $0.int(0) } == [1, 2])
    #expect(try reopened.integrityCheck() == ["ok"])
  }
}
