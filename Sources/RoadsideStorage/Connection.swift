internal import CSQLite
import Foundation

/// How hard SQLite works to make a commit survive a power loss.
public enum Durability: Sendable {
  /// `synchronous=FULL`: a commit is on disk when it returns. For records that must
  /// survive power loss (decisions, outboxes, the central store).
  case full
  /// `synchronous=NORMAL`: WAL commits may roll back on power loss, never corrupt.
  /// For caches that can be pulled again.
  case normal
  /// A file being built whole, to be moved into place only once complete (a new central
  /// store): the rollback journal in memory and `synchronous=OFF`, because a build that
  /// fails is deleted, never recovered. One transaction of a million licences in WAL mode
  /// would grow a WAL of gigabytes that every page read searches. The builder makes the
  /// file durable itself (``PrivateFiles/synchronize(path:)``) before moving it; the next
  /// opening with `.full` puts it in WAL mode.
  case build
}

/// One SQLite connection: WAL journal, foreign keys on, prepared statements cached.
///
/// A connection is not thread-safe and is not `Sendable`: it belongs to one owner
/// (a service value, an actor) at a time. Nothing here reads a clock.
public final class Connection {
  let handle: OpaquePointer
  /// The path the connection was opened with.
  public let path: String
  private var cache: [String: Statement] = [:]
  /// Commits left before every commit fails (``failCommits(after:)``).
  private var commitBudget: CommitBudget?

  /// Opens (and with `create`, creates) the database at `path`.
  ///
  /// The connection is set up with `journal_mode=WAL`, `foreign_keys=ON`, the requested
  /// durability and a busy timeout. A file that is not a database fails here, with
  /// ``SQLiteError/isNotADatabase`` set, not at some later query.
  public init(
    path: String, create: Bool = true, readOnly: Bool = false, durability: Durability = .full,
    busyTimeoutMilliseconds: Int32 = 5_000
  ) throws(SQLiteError) {
    var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
    if readOnly {
      flags |= SQLITE_OPEN_READONLY
    } else {
      flags |= SQLITE_OPEN_READWRITE
      if create { flags |= SQLITE_OPEN_CREATE }
    }
    if !create || readOnly,
      let attributes = try? FileManager.default.attributesOfItem(atPath: path),
      (attributes[.size] as? Int) == 0
    {
      // An existing empty file is not a store: refuse it rather than write a header into it.
      throw SQLiteError(extendedCode: SQLITE_NOTADB, message: "the file is empty", sql: nil)
    }
    if create, !readOnly {
      // The file exists 0600 before SQLite opens it: its -wal and -shm files take its mode.
      PrivateFiles.createFile(atPath: path)
    }
    var handle: OpaquePointer?
    let rc = sqlite3_open_v2(path, &handle, flags, nil)
    guard rc == SQLITE_OK, let handle else {
      let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
      sqlite3_close_v2(handle)
      throw SQLiteError(extendedCode: rc, message: message, sql: nil)
    }
    self.handle = handle
    self.path = path
    sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
    sqlite3_extended_result_codes(handle, 1)
    do {
      // Reading the schema first makes a foreign or corrupt file fail now.
      try execute("SELECT count(*) FROM sqlite_master")
      if !readOnly {
        try execute(durability == .build ? "PRAGMA journal_mode=MEMORY" : "PRAGMA journal_mode=WAL")
      }
      try execute("PRAGMA foreign_keys=ON")
      switch durability {
      case .full: try execute("PRAGMA synchronous=FULL")
      case .normal: try execute("PRAGMA synchronous=NORMAL")
      case .build:
        try execute("PRAGMA synchronous=OFF")
        // 256 MiB of page cache: a build touches every page of its indexes.
        try execute("PRAGMA cache_size=-262144")
      }
    } catch {
      cache.removeAll()
      sqlite3_close_v2(handle)
      throw error
    }
  }

  deinit {
    cache.removeAll()
    sqlite3_close_v2(handle)
  }

  func error(_ rc: Int32, sql: String?) -> SQLiteError {
    let message = String(cString: sqlite3_errmsg(handle))
    let extended = sqlite3_extended_errcode(handle)
    return SQLiteError(extendedCode: extended != 0 ? extended : rc, message: message, sql: sql)
  }

  /// A prepared statement for `sql`, from the cache when it was prepared before.
  ///
  /// A cached statement that is still being stepped (a query issued from inside the row
  /// handler of the same query) is not handed out twice: a fresh one is prepared instead.
  public func statement(_ sql: String) throws(SQLiteError) -> Statement {
    if let cached = cache[sql], !cached.inUse {
      return cached
    }
    let statement = try Statement(connection: self, sql: sql)
    if cache[sql] == nil { cache[sql] = statement }
    return statement
  }

  /// Number of statements in the cache (for tests and diagnostics).
  public var cachedStatementCount: Int { cache.count }

  /// Runs `sql` with the values bound, to completion. Returns the number of rows changed.
  @discardableResult
  public func execute<each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V
  ) throws(SQLiteError) -> Int {
    let statement = try self.statement(sql)
    statement.inUse = true
    defer {
      statement.reset()
      statement.inUse = false
    }
    try statement.bind(repeat each values)
    while try statement.step() {}
    return Int(sqlite3_changes64(handle))
  }

  /// Runs a script of several statements with no parameters (schema migrations).
  public func executeScript(_ sql: String) throws(SQLiteError) {
    var message: UnsafeMutablePointer<CChar>?
    let rc = sqlite3_exec(handle, sql, nil, nil, &message)
    if rc != SQLITE_OK {
      let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
      sqlite3_free(message)
      throw SQLiteError(extendedCode: sqlite3_extended_errcode(handle), message: text, sql: sql)
    }
  }

  /// Runs a query and maps every row.
  public func fetchAll<T, each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, map: (Row) throws -> T
  ) throws -> [T] {
    let statement = try self.statement(sql)
    statement.inUse = true
    defer {
      statement.reset()
      statement.inUse = false
    }
    try statement.bind(repeat each values)
    var result: [T] = []
    while try statement.step() {
      result.append(try map(statement.row))
    }
    return result
  }

  /// Runs a query and maps the first row, if any.
  public func fetchOne<T, each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, map: (Row) throws -> T
  ) throws -> T? {
    let statement = try self.statement(sql)
    statement.inUse = true
    defer {
      statement.reset()
      statement.inUse = false
    }
    try statement.bind(repeat each values)
    guard try statement.step() else { return nil }
    return try map(statement.row)
  }

  /// Runs a query and visits every row without collecting them.
  public func forEachRow<each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, body: (Row) throws -> Void
  ) throws {
    let statement = try self.statement(sql)
    statement.inUse = true
    defer {
      statement.reset()
      statement.inUse = false
    }
    try statement.bind(repeat each values)
    while try statement.step() {
      try body(statement.row)
    }
  }

  /// The rowid of the last row inserted on this connection.
  public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

  /// Whether a transaction is open on this connection.
  public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

  /// How a top-level transaction takes its locks.
  public enum TransactionKind: Sendable {
    /// Takes the write lock at once; what every writer should use.
    case immediate
    /// Takes locks when first needed; for readers.
    case deferred
  }

  /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
  ///
  /// Called inside another transaction it runs in a savepoint, so an inner failure
  /// rolls back only the inner work and the error still reaches the outer body.
  public func transaction<T>(
    _ kind: TransactionKind = .immediate, _ body: () throws -> T
  ) throws -> T {
    if isInTransaction {
      try execute("SAVEPOINT roadside_nested")
      do {
        let result = try body()
        try execute("RELEASE roadside_nested")
        return result
      } catch {
        _ = try? execute("ROLLBACK TO roadside_nested")
        _ = try? execute("RELEASE roadside_nested")
        throw error
      }
    }
    try execute(kind == .immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      if isInTransaction { _ = try? execute("ROLLBACK") }
      throw error
    }
  }

  /// Lets the next `commits` commits through and rolls back every later one, from this
  /// connection, as a process that died at that commit would leave the file: the commit
  /// fails with `SQLITE_CONSTRAINT_COMMITHOOK` and what it would have written is gone. For
  /// simulating a crash in the middle of an operation; the connection is useless afterwards.
  public func failCommits(after commits: Int) {
    let budget = CommitBudget(left: commits)
    commitBudget = budget
    sqlite3_commit_hook(
      handle,
      { context in
        guard let context else { return 0 }
        let budget = Unmanaged<CommitBudget>.fromOpaque(context).takeUnretainedValue()
        guard budget.left > 0 else { return 1 }
        budget.left -= 1
        return 0
      }, Unmanaged.passUnretained(budget).toOpaque())
  }

  /// Reads an integer pragma (`user_version`, `application_id`, …).
  public func pragmaInt(_ name: String) throws -> Int {
    try fetchOne("PRAGMA \(name)") { $0.int(0) } ?? 0
  }

  /// `PRAGMA integrity_check`: `["ok"]` when the file is sound.
  public func integrityCheck() throws -> [String] {
    try fetchAll("PRAGMA integrity_check") { $0.text(0) }
  }

  /// The journal mode in force (`wal` after a read-write open).
  public func journalMode() throws -> String {
    try fetchOne("PRAGMA journal_mode") { $0.text(0) } ?? ""
  }
}

/// The commits a connection has left before it "dies" (``Connection/failCommits(after:)``).
private final class CommitBudget {
  var left: Int
  init(left: Int) { self.left = left }
}
