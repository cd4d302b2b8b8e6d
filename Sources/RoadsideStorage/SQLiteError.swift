internal import CSQLite

/// An error reported by SQLite.
///
/// The description carries SQLite's own message and the statement's SQL text, never the
/// values bound to it: those are personal data (names, ID numbers, plates) and must not
/// reach logs or terminals through an error message.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The primary result code (`SQLITE_CONSTRAINT`, `SQLITE_NOTADB`, …).
  public var code: Int32 { extendedCode & 0xFF }
  /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, …).
  public let extendedCode: Int32
  /// SQLite's message for the failure.
  public let message: String
  /// The SQL text of the statement that failed, if any.
  public let sql: String?

  public init(extendedCode: Int32, message: String, sql: String?) {
    self.extendedCode = extendedCode
    self.message = message
    self.sql = sql
  }

  /// The file is not a database, or is damaged beyond what SQLite will read.
  public var isNotADatabase: Bool { code == SQLITE_NOTADB || code == SQLITE_CORRUPT }
  /// A constraint of the schema refused the write.
  public var isConstraintViolation: Bool { code == SQLITE_CONSTRAINT }
  /// The database is locked by another connection past the busy timeout.
  public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }

  public var description: String {
    let name = String(cString: sqlite3_errstr(extendedCode))
    if let sql {
      return "SQLite error \(extendedCode) (\(name)): \(message), in statement: \(sql)"
    }
    return "SQLite error \(extendedCode) (\(name)): \(message)"
  }
}
