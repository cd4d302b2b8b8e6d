import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
public import RoadsideStorage

/// One connection to a PostgreSQL server, used synchronously: the central store's query
/// layer is synchronous (one statement after another inside a transaction, as with
/// SQLite), so each call sends its statement and waits for the answer.
///
/// The connection runs on an event loop of its own, never the caller's thread, so waiting
/// cannot deadlock the loop that must deliver the answer. A lost connection is reopened
/// by the next call outside a transaction; inside one, the transaction fails as a whole
/// (``PostgresStoreError/Kind/connectionLost``) and the caller may retry it.
///
/// `?` and `?NNN` parameters are rewritten to PostgreSQL's `$n`; statements with a
/// question mark inside a string literal are not supported (the query layer has none).
public final class PostgresDatabase: SQLDatabase {
  public let url: PostgresURL
  public var dialect: SQLDialect { .postgresql }
  let group: MultiThreadedEventLoopGroup
  let logger: Logger
  var connection: PostgresConnection?
  var transactionDepth = 0
  /// The transaction-scoped advisory locks the open transaction holds.
  var heldLocks: Set<Int64> = []
  var translated: [String: String] = [:]

  /// Connects to `url`; a server that cannot be reached is ``PostgresStoreError/Kind/unavailable``.
  public init(_ url: PostgresURL) throws(PostgresStoreError) {
    self.url = url
    self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var logger = Logger(label: "roadside.postgres")
    logger.logLevel = .critical
    self.logger = logger
    do {
      self.connection = try openConnection()
    } catch {
      try? group.syncShutdownGracefully()
      throw error
    }
  }

  deinit {
    guard MultiThreadedEventLoopGroup.currentEventLoop != nil else {
      if let connection { _ = try? connection.close().wait() }
      try? group.syncShutdownGracefully()
      return
    }
    // The last reference went on an event loop thread (a server's that shut down, an HTTP
    // client's), where NIO forbids waiting (it traps). Close, then shut the connection's
    // own loop down, without waiting and off that thread.
    let group = self.group
    let shutDown: @Sendable () -> Void = {
      DispatchQueue.global().async { try? group.syncShutdownGracefully() }
    }
    if let connection {
      // The closure holds the connection until it has closed (it must not end open).
      connection.close().whenComplete { _ in
        withExtendedLifetime(connection) { shutDown() }
      }
    } else {
      shutDown()
    }
  }

  /// Closes the connection; a later call opens a new one.
  public func close() {
    if let connection { _ = try? connection.close().wait() }
    connection = nil
  }

  func openConnection() throws(PostgresStoreError) -> PostgresConnection {
    var configuration = PostgresConnection.Configuration(
      host: url.host, port: url.port, username: url.user, password: url.password,
      database: url.database, tls: .disable)
    configuration.options.connectTimeout = .seconds(10)
    if url.requireTLS {
      do {
        configuration.tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
      } catch {
        throw PostgresStoreError(.unavailable, "cannot set up TLS for \(url): \(error)")
      }
    }
    do {
      return try PostgresConnection.connect(
        on: group.next(), configuration: configuration, id: 1, logger: logger
      ).wait()
    } catch {
      throw PostgresStoreError(
        .unavailable,
        "cannot reach the PostgreSQL store at \(url): \(PostgresDatabase.reason(error)); check that the server runs, the user may log in and the database exists"
      )
    }
  }

  func live() throws(PostgresStoreError) -> PostgresConnection {
    if let connection, !connection.isClosed { return connection }
    guard transactionDepth == 0 else {
      throw PostgresStoreError(
        .connectionLost, "the connection to the PostgreSQL store at \(url) was lost mid-transaction"
      )
    }
    let fresh = try openConnection()
    connection = fresh
    return fresh
  }

  /// The statement text with `?`/`?NNN` rewritten to `$n`.
  func postgresSQL(_ sql: String) -> String {
    if let cached = translated[sql] { return cached }
    var result = ""
    var next = 0
    var index = sql.startIndex
    while index < sql.endIndex {
      let character = sql[index]
      index = sql.index(after: index)
      guard character == "?" else {
        result.append(character)
        continue
      }
      var digits = ""
      while index < sql.endIndex, sql[index].isASCII, sql[index].isNumber {
        digits.append(sql[index])
        index = sql.index(after: index)
      }
      if digits.isEmpty {
        next += 1
        result += "$\(next)"
      } else {
        result += "$\(digits)"
      }
    }
    translated[sql] = result
    return result
  }

  func run<each V: SQLiteBindable>(_ sql: String, _ values: repeat each V) throws
    -> PostgresQueryResult
  {
    var arguments: [SQLValue] = []
    for value in repeat each values { arguments.append(value.sqlValue) }
    return try run(sql, arguments: arguments)
  }

  func run(_ sql: String, arguments: [SQLValue]) throws -> PostgresQueryResult {
    var binds = PostgresBindings(capacity: arguments.count)
    for value in arguments {
      switch value {
      case .null: binds.appendNull()
      case .integer(let v): binds.append(v)
      case .real(let v): binds.append(v)
      case .text(let v): binds.append(v)
      case .blob(let v): binds.append(ByteBuffer(bytes: v))
      }
    }
    let query = PostgresQuery(unsafeSQL: postgresSQL(sql), binds: binds)
    let connection = try live()
    do {
      return try connection.query(query, logger: logger).wait()
    } catch let error as PSQLError {
      throw PostgresDatabase.storeError(error, sql: sql, url: url)
    } catch {
      throw PostgresStoreError(
        .connectionLost, "the PostgreSQL store at \(url) failed: \(PostgresDatabase.reason(error))")
    }
  }

  @discardableResult
  public func execute<each V: SQLiteBindable>(_ sql: String, _ values: repeat each V) throws
    -> Int
  {
    let result = try run(sql, repeat each values)
    return result.metadata.rows ?? 0
  }

  @discardableResult
  public func execute(_ sql: String, arguments: [SQLValue]) throws -> Int {
    try run(sql, arguments: arguments).metadata.rows ?? 0
  }

  public func fetchAll<T, each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, map: (Row) throws -> T
  ) throws -> [T] {
    try run(sql, repeat each values).rows.map {
      try map(Row(values: try PostgresDatabase.values(of: $0)))
    }
  }

  public func fetchAll<T>(_ sql: String, arguments: [SQLValue], map: (Row) throws -> T) throws
    -> [T]
  {
    try run(sql, arguments: arguments).rows.map {
      try map(Row(values: try PostgresDatabase.values(of: $0)))
    }
  }

  public func fetchOne<T, each V: SQLiteBindable>(
    _ sql: String, _ values: repeat each V, map: (Row) throws -> T
  ) throws -> T? {
    guard let row = try run(sql, repeat each values).rows.first else { return nil }
    return try map(Row(values: try PostgresDatabase.values(of: row)))
  }

  /// Takes the transaction-scoped advisory lock `key` (`pg_advisory_xact_lock`), waiting
  /// for a transaction of another connection that holds it; released at commit or
  /// rollback. Taking it again in the same transaction costs nothing.
  public func advisoryLock(_ key: Int64) throws {
    precondition(transactionDepth > 0, "an advisory lock is taken inside a transaction")
    guard !heldLocks.contains(key) else { return }
    try execute("SELECT pg_advisory_xact_lock(?)", key)
    heldLocks.insert(key)
  }

  /// Whether a transaction is open on this connection.
  public var isInTransaction: Bool { transactionDepth > 0 }

  /// How a transaction begins.
  public enum TransactionKind: Sendable {
    /// Reads and writes at READ COMMITTED: each statement sees what committed before it,
    /// so a row lock taken mid-transaction is followed by reads of the current state.
    case write
    /// One snapshot for every read (REPEATABLE READ, READ ONLY).
    case read
  }

  /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
  /// Nested calls run in a savepoint, as with SQLite.
  public func transaction<T>(_ kind: TransactionKind = .write, _ body: () throws -> T) throws -> T {
    if transactionDepth > 0 {
      try execute("SAVEPOINT roadside_nested")
      transactionDepth += 1
      defer { transactionDepth -= 1 }
      let locksBefore = heldLocks
      do {
        let result = try body()
        try execute("RELEASE SAVEPOINT roadside_nested")
        return result
      } catch {
        // Locks taken since the savepoint are released by rolling back to it.
        heldLocks = locksBefore
        _ = try? execute("ROLLBACK TO SAVEPOINT roadside_nested")
        _ = try? execute("RELEASE SAVEPOINT roadside_nested")
        throw error
      }
    }
    try execute(
      kind == .write
        ? "BEGIN ISOLATION LEVEL READ COMMITTED"
        : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    transactionDepth = 1
    defer {
      transactionDepth = 0
      heldLocks = []
    }
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      _ = try? execute("ROLLBACK")
      throw error
    }
  }

  /// Runs a script of several statements with no parameters (schema migrations).
  public func executeScript(_ sql: String) throws {
    let connection = try live()
    do {
      _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait()
    } catch let error as PSQLError {
      throw PostgresDatabase.storeError(error, sql: nil, url: url)
    }
  }

  static func values(of row: PostgresRow) throws -> [SQLValue] {
    try row.map { cell in
      guard var bytes = cell.bytes else { return SQLValue.null }
      switch cell.dataType {
      case .int2, .int4, .int8, .oid:
        return .integer(try cell.decode(Int64.self))
      case .float4, .float8:
        return .real(try cell.decode(Double.self))
      case .numeric:
        return .integer(NSDecimalNumber(decimal: try cell.decode(Decimal.self)).int64Value)
      case .bool:
        return .integer(try cell.decode(Bool.self) ? 1 : 0)
      case .bytea:
        return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
      default:
        return .text(try cell.decode(String.self))
      }
    }
  }

  static func storeError(_ error: PSQLError, sql: String?, url: PostgresURL) -> PostgresStoreError {
    if let state = error.serverInfo?[.sqlState] {
      let message = error.serverInfo?[.message] ?? "\(error.code)"
      // Class 08 (connection exception) and 57P0x (the server shutting down, the connection
      // terminated by an administrator): the connection is gone, not the statement wrong.
      if state.hasPrefix("08") || state.hasPrefix("57P0") {
        return PostgresStoreError(
          .connectionLost, "the connection to the PostgreSQL store at \(url) was lost: \(message)")
      }
      let constraint = error.serverInfo?[.constraintName].map { " (constraint \($0))" } ?? ""
      let statement = sql.map { ", in statement: \($0)" } ?? ""
      return PostgresStoreError(
        .server(sqlState: state),
        "PostgreSQL error \(state): \(message)\(constraint)\(statement)")
    }
    let connectionCodes: [PSQLError.Code] = [
      .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown,
      .poolClosed, .sslUnsupported, .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest,
    ]
    guard connectionCodes.contains(error.code) else {
      let statement = sql.map { ", in statement: \($0)" } ?? ""
      return PostgresStoreError(
        .client, "the PostgreSQL client failed (\(error.code))\(statement)")
    }
    return PostgresStoreError(
      .connectionLost, "the connection to the PostgreSQL store at \(url) failed: \(reason(error))")
  }

  /// What went wrong, in words: the server's message, or the socket's in a few words.
  static func reason(_ error: any Error) -> String {
    var text = "\(error)"
    if let error = error as? PSQLError {
      if let message = error.serverInfo?[.message] { return message }
      text = error.underlying.map { "\($0)" } ?? "\(error.code)"
    }
    let known = [
      "Connection refused", "Connection reset", "No route to host", "Network is unreachable",
      "Name or service not known", "Temporary failure in name resolution",
    ]
    if let found = known.first(where: { text.contains($0) }) { return found.lowercased() }
    if text.contains("connectTimeout") || text.contains("timed out") {
      return "no answer within 10 seconds"
    }
    return text
  }
}
