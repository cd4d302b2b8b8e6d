internal import CSQLite

/// The SQL engines a store's queries are written for.
public enum SQLDialect: Sendable, Equatable {
  /// The embedded engine (``Connection``).
  case sqlite
  /// A PostgreSQL server (the `RoadsidePostgres` module).
  case postgresql
}

/// One connection to a SQL engine, as a store's query layer uses it: statements with `?`
/// parameters, run to completion, rows mapped as they come. One query text serves every
/// dialect; where the engines differ the query layer asks ``dialect``.
///
/// Connections are not thread-safe: one owner (an actor, a command) uses each.
public protocol SQLDatabase: AnyObject {
  var dialect: SQLDialect { get }

  /// Runs `sql` with the values bound, to completion. Returns the number of rows changed.
  @discardableResult
  func execute<each V: SQLiteBindable>(_ sql: String, _ values: repeat each V) throws -> Int

  /// Runs a query and maps every row.
  func fetchAll<T, each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, map: (Row) throws -> T
  ) throws -> [T]

  /// Runs a query and maps the first row, if any.
  func fetchOne<T, each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, map: (Row) throws -> T
  ) throws -> T?

  /// Runs `sql` with a list of values whose length is known only at run time (`IN (…)`,
  /// `VALUES (…), (…)`). Returns the number of rows changed.
  @discardableResult
  func execute(_ sql: String, arguments: [SQLValue]) throws -> Int

  /// Runs a query with a list of values whose length is known only at run time, and maps
  /// every row.
  func fetchAll<T>(_ sql: String, arguments: [SQLValue], map: (Row) throws -> T) throws -> [T]
}

extension Connection: SQLDatabase {
  public var dialect: SQLDialect { .sqlite }

  @discardableResult
  public func execute(_ sql: String, arguments: [SQLValue]) throws -> Int {
    try withStatement(sql, bound: arguments) { statement in
      while try statement.step() {}
      return Int(sqlite3_changes64(handle))
    }
  }

  public func fetchAll<T>(_ sql: String, arguments: [SQLValue], map: (Row) throws -> T) throws
    -> [T]
  {
    try withStatement(sql, bound: arguments) { statement in
      var result: [T] = []
      while try statement.step() { result.append(try map(statement.row)) }
      return result
    }
  }

  /// The cached statement of `sql` with `arguments` bound, for `body`, reset afterwards.
  private func withStatement<T>(
    _ sql: String, bound arguments: [SQLValue], _ body: (Statement) throws -> T
  ) throws -> T {
    let statement = try self.statement(sql)
    statement.inUse = true
    defer {
      statement.reset()
      statement.inUse = false
    }
    for (offset, value) in arguments.enumerated() {
      try statement.bind(value, at: Int32(offset + 1))
    }
    return try body(statement)
  }
}

extension SQLValue: SQLiteBindable {
  public var sqlValue: SQLValue { self }

  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    switch self {
    case .null: SQLNull().bind(to: statement, at: index)
    case .integer(let v): v.bind(to: statement, at: index)
    case .real(let v): v.bind(to: statement, at: index)
    case .text(let v): v.bind(to: statement, at: index)
    case .blob(let v): v.bind(to: statement, at: index)
    }
  }
}

extension SQLDatabase {
  /// Runs a query and visits every row (through ``fetchAll(_:_:map:)`` on engines that
  /// have no cursor of their own here).
  public func forEachRow<each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, body: (Row) throws -> Void
  ) throws {
    _ = try fetchAll(sql, repeat each values, map: body)
  }
}
