internal import CSQLite

/// A value bound to a statement parameter or read from a result column, independent of
/// the engine: what the PostgreSQL connection sends and receives.
public enum SQLValue: Sendable, Hashable {
  case null
  case integer(Int64)
  case real(Double)
  case text(String)
  case blob([UInt8])
}

/// A value that can be bound to a statement parameter, on SQLite (``bind(to:at:)``) or on
/// another engine (``sqlValue``). Booleans are the integers 0 and 1 on every engine, so
/// that one schema's `CHECK (x IN (0, 1))` and one query text serve both.
public protocol SQLiteBindable {
  /// Binds the value at the 1-based parameter `index`; returns SQLite's result code.
  func bind(to statement: Statement, at index: Int32) -> Int32
  /// The value as another engine receives it.
  var sqlValue: SQLValue { get }
}

/// A prepared statement, owned by its ``Connection`` and reused through its cache.
///
/// Statements are not thread-safe; neither is the connection that owns them.
public final class Statement {
  let handle: OpaquePointer
  /// The SQL text the statement was prepared from.
  public let sql: String
  unowned let connection: Connection
  var inUse = false

  init(connection: Connection, sql: String) throws(SQLiteError) {
    var handle: OpaquePointer?
    let rc = sqlite3_prepare_v3(
      connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
    guard rc == SQLITE_OK, let handle else {
      throw connection.error(rc, sql: sql)
    }
    self.handle = handle
    self.sql = sql
    self.connection = connection
  }

  deinit {
    sqlite3_finalize(handle)
  }

  /// Resets the statement and clears its bindings so that it can be run again.
  public func reset() {
    sqlite3_reset(handle)
    sqlite3_clear_bindings(handle)
  }

  /// Binds the values to parameters 1, 2, … in order.
  public func bind<each V: SQLiteBindable>(_ values: repeat each V) throws(SQLiteError) {
    var index: Int32 = 0
    for value in repeat each values {
      index += 1
      let rc = value.bind(to: self, at: index)
      if rc != SQLITE_OK { throw connection.error(rc, sql: sql) }
    }
  }

  /// Binds one value at the 1-based parameter `index`.
  public func bind(_ value: some SQLiteBindable, at index: Int32) throws(SQLiteError) {
    let rc = value.bind(to: self, at: index)
    if rc != SQLITE_OK { throw connection.error(rc, sql: sql) }
  }

  /// Steps once. Returns `true` when a row is available, `false` when the statement is done.
  @discardableResult
  public func step() throws(SQLiteError) -> Bool {
    let rc = sqlite3_step(handle)
    switch rc {
    case SQLITE_ROW: return true
    case SQLITE_DONE: return false
    default: throw connection.error(rc, sql: sql)
    }
  }

  /// The current row. Valid only until the next `step()` or `reset()`.
  public var row: Row { Row(storage: .statement(handle)) }
}

/// A read view of one result row: the current row of a SQLite statement, or the decoded
/// values of a row another engine returned. Columns are 0-based. A column read as another
/// type than it holds converts as SQLite does (text to number, number to text).
public struct Row {
  enum Storage {
    case statement(OpaquePointer)
    case values([SQLValue])
  }
  let storage: Storage

  init(storage: Storage) { self.storage = storage }

  /// A row of values another engine returned.
  public init(values: [SQLValue]) { self.storage = .values(values) }

  func value(at column: Int32) -> SQLValue {
    guard case .values(let values) = storage else { return .null }
    return values.indices.contains(Int(column)) ? values[Int(column)] : .null
  }

  public func isNull(_ column: Int32) -> Bool {
    switch storage {
    case .statement(let handle): sqlite3_column_type(handle, column) == SQLITE_NULL
    case .values: value(at: column) == .null
    }
  }
  public func int(_ column: Int32) -> Int { Int(int64(column)) }
  public func int64(_ column: Int32) -> Int64 {
    switch storage {
    case .statement(let handle): return sqlite3_column_int64(handle, column)
    case .values:
      switch value(at: column) {
      case .integer(let v): return v
      case .real(let v): return Int64(v)
      case .text(let v): return Int64(v) ?? 0
      case .null, .blob: return 0
      }
    }
  }
  public func double(_ column: Int32) -> Double {
    switch storage {
    case .statement(let handle): return sqlite3_column_double(handle, column)
    case .values:
      switch value(at: column) {
      case .real(let v): return v
      case .integer(let v): return Double(v)
      case .text(let v): return Double(v) ?? 0
      case .null, .blob: return 0
      }
    }
  }
  public func bool(_ column: Int32) -> Bool { int64(column) != 0 }
  public func text(_ column: Int32) -> String {
    switch storage {
    case .statement(let handle):
      guard let bytes = sqlite3_column_text(handle, column) else { return "" }
      let count = Int(sqlite3_column_bytes(handle, column))
      return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    case .values:
      switch value(at: column) {
      case .text(let v): return v
      case .integer(let v): return String(v)
      case .real(let v): return String(v)
      case .blob(let v): return String(decoding: v, as: UTF8.self)
      case .null: return ""
      }
    }
  }
  public func blob(_ column: Int32) -> [UInt8] {
    switch storage {
    case .statement(let handle):
      let count = Int(sqlite3_column_bytes(handle, column))
      guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return [] }
      return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    case .values:
      switch value(at: column) {
      case .blob(let v): return v
      case .text(let v): return Array(v.utf8)
      case .null, .integer, .real: return []
      }
    }
  }
  public func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }
  public func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }
  public func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }
  public func optionalBlob(_ column: Int32) -> [UInt8]? { isNull(column) ? nil : blob(column) }

  /// A value of a closed set (a state, a kind) stored as its raw text. A text outside the set
  /// means the file was written by something else: it is an error, never a guess.
  public func value<T: RawRepresentable>(_ column: Int32, as type: T.Type = T.self)
    throws(SQLiteError) -> T where T.RawValue == String
  {
    let raw = text(column)
    guard let value = T(rawValue: raw) else {
      throw SQLiteError(
        extendedCode: SQLITE_MISMATCH,
        message: "column \(column) holds \"\(raw)\", which is not a \(T.self)", sql: nil)
    }
    return value
  }

  /// The same for a column that may be NULL.
  public func optionalValue<T: RawRepresentable>(_ column: Int32, as type: T.Type = T.self)
    throws(SQLiteError) -> T? where T.RawValue == String
  {
    isNull(column) ? nil : try value(column, as: type)
  }
}

extension Int: SQLiteBindable {
  public var sqlValue: SQLValue { .integer(Int64(self)) }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    sqlite3_bind_int64(statement.handle, index, Int64(self))
  }
}

extension Int64: SQLiteBindable {
  public var sqlValue: SQLValue { .integer(self) }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    sqlite3_bind_int64(statement.handle, index, self)
  }
}

extension Int32: SQLiteBindable {
  public var sqlValue: SQLValue { .integer(Int64(self)) }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    sqlite3_bind_int(statement.handle, index, self)
  }
}

extension Bool: SQLiteBindable {
  public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    sqlite3_bind_int(statement.handle, index, self ? 1 : 0)
  }
}

extension Double: SQLiteBindable {
  public var sqlValue: SQLValue { .real(self) }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    sqlite3_bind_double(statement.handle, index, self)
  }
}

extension String: SQLiteBindable {
  public var sqlValue: SQLValue { .text(self) }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    var copy = self
    return copy.withUTF8 { utf8 in
      guard let base = utf8.baseAddress, utf8.count > 0 else {
        return sqlite3_bind_text(statement.handle, index, "", 0, nil)
      }
      return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
        sqlite3_bind_text(statement.handle, index, $0, Int32(utf8.count), csqlite_transient())
      }
    }
  }
}

extension Substring: SQLiteBindable {
  public var sqlValue: SQLValue { .text(String(self)) }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    String(self).bind(to: statement, at: index)
  }
}

extension Array: SQLiteBindable where Element == UInt8 {
  public var sqlValue: SQLValue { .blob(self) }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    withUnsafeBytes { bytes in
      sqlite3_bind_blob(
        statement.handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
        Int32(bytes.count), csqlite_transient())
    }
  }
}

extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
  public var sqlValue: SQLValue { self?.sqlValue ?? .null }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    switch self {
    case .none: sqlite3_bind_null(statement.handle, index)
    case .some(let value): value.bind(to: statement, at: index)
    }
  }
}

/// Binds SQL NULL.
public struct SQLNull: SQLiteBindable, Sendable {
  public init() {}
  public var sqlValue: SQLValue { .null }
  public func bind(to statement: Statement, at index: Int32) -> Int32 {
    sqlite3_bind_null(statement.handle, index)
  }
}
