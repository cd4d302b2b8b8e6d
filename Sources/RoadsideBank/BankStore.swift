import Foundation
public import RoadsideBankProtocol
public import RoadsideDomain
import RoadsideStorage

/// The bank's SQLite file and its operations. Not thread-safe: ``BankEndpoint`` owns one.
public final class BankStore {
  let db: Connection
  public let path: String

  static let migrator = Migrator(
    applicationID: 0x5253_424B, kind: "Roadside bank",
    migrations: [
      Migration(
        version: 1, name: "accounts, mandates, deductions, faults",
        sql: """
          CREATE TABLE accounts (
            number TEXT PRIMARY KEY CHECK (length(number) BETWEEN 12 AND 19),
            bank TEXT NOT NULL,
            holder TEXT NOT NULL,
            balance_fen INTEGER NOT NULL CHECK (balance_fen >= 0),
            state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed'))
          ) STRICT, WITHOUT ROWID;

          CREATE TABLE mandates (
            licence TEXT NOT NULL,
            account TEXT NOT NULL REFERENCES accounts (number),
            state TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
            PRIMARY KEY (licence, account)
          ) STRICT, WITHOUT ROWID;

          -- One row per idempotency key, for ever: the first result is the result.
          CREATE TABLE deductions (
            key TEXT PRIMARY KEY,
            licence TEXT NOT NULL,
            account TEXT NOT NULL,
            amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
            outcome TEXT NOT NULL CHECK (outcome IN ('settled', 'failed', 'cancelled', 'reversed')),
            reason TEXT,
            at TEXT NOT NULL,
            day TEXT NOT NULL,
            refunded_at TEXT,
            refund_day TEXT
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX deductions_day ON deductions (day);
          CREATE INDEX deductions_refund_day ON deductions (refund_day);

          CREATE TABLE faults (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            after INTEGER NOT NULL CHECK (after >= 0),
            times INTEGER NOT NULL CHECK (times >= 0),
            delay_ms INTEGER NOT NULL DEFAULT 0 CHECK (delay_ms >= 0)
          ) STRICT;
          """),
      Migration(
        version: 2, name: "authenticated clients; each deduction owned by the client that made it",
        sql: """
          CREATE TABLE clients (
            name TEXT PRIMARY KEY,
            secret BLOB NOT NULL CHECK (length(secret) = 32),
            created_at TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;
          ALTER TABLE deductions ADD COLUMN client TEXT NOT NULL DEFAULT 'central';
          """),
    ])

  init(db: Connection, path: String) {
    self.db = db
    self.path = path
  }

  /// Creates the bank's file with an account for every mandate of the fixtures. Balances
  /// are derived from the account number, so every run agrees: one account in ten holds
  /// 50 yuan (too little for most fines), the others 3,000 yuan.
  public static func create(
    path: String, mandates: [(licence: String, bank: String, account: String, revoked: Bool)]
  )
    throws -> BankStore
  {
    guard !FileManager.default.fileExists(atPath: path) else {
      throw BankError(.invalid, "a bank already exists at \(path)")
    }
    try PrivateFiles.createDirectory(atPath: (path as NSString).deletingLastPathComponent)
    let db = try Connection(path: path, create: true, durability: .full)
    try migrator.migrate(db)
    try db.transaction {
      for mandate in mandates {
        let digits = mandate.account.utf8.reduce(0) { $0 + Int($1) - 48 }
        let balance = digits % 10 == 0 ? Money(yuan: 50) : Money(yuan: 3_000)
        try db.execute(
          "INSERT OR IGNORE INTO accounts (number, bank, holder, balance_fen) VALUES (?, ?, ?, ?)",
          mandate.account, mandate.bank, mandate.licence, balance.fen)
        try db.execute(
          "INSERT OR REPLACE INTO mandates (licence, account, state) VALUES (?, ?, ?)",
          mandate.licence, mandate.account, mandate.revoked ? "revoked" : "active")
      }
    }
    return BankStore(db: db, path: path)
  }

  public static func open(path: String) throws -> BankStore {
    guard FileManager.default.fileExists(atPath: path) else {
      throw BankError(.notFound, "no bank at \(path); run 'roadside bank init' first")
    }
    let db: Connection
    do {
      db = try Connection(path: path, create: false, durability: .full)
      try migrator.migrate(db, creating: false)
    } catch let error as SQLiteError where error.isNotADatabase {
      throw BankError(
        .invalid,
        "\(path) is not a SQLite database or is damaged; move it aside and run 'roadside bank init'"
      )
    } catch let error as SchemaError {
      throw BankError(.invalid, "\(error); move it aside and run 'roadside bank init'")
    }
    return BankStore(db: db, path: path)
  }

  // MARK: - Deductions

  /// Deducts, or returns the first result for the key. `forced` is an injected failure.
  func deduct(_ request: DeductionRequest, client: String, forced: String?) throws
    -> DeductionResult
  {
    try request.validate()
    return try db.transaction {
      if let owner = try owner(request.key), owner != client {
        throw BankError(.keyReused, "key \(request.key) belongs to another client of this bank")
      }
      if let first = try result(request.key) {
        guard first.amount == request.amount || first.outcome == .cancelled else {
          throw BankError(
            .keyReused,
            "key \(request.key) was first used for \(first.amount.yuanText), not \(request.amount.yuanText)"
          )
        }
        return first
      }
      guard
        let (balance, state) = try db.fetchOne(
          "SELECT balance_fen, state FROM accounts WHERE number = ?", request.account,
          map: { ($0.int64(0), $0.text(1)) })
      else {
        throw BankError(.invalid, "account \(request.account) is not held at this bank")
      }
      let mandate = try db.fetchOne(
        "SELECT state FROM mandates WHERE licence = ? AND account = ?", request.licence,
        request.account, map: { $0.text(0) })
      var reason = forced
      if reason == nil {
        if state == "closed" {
          reason = "account_closed"
        } else if mandate != "active" {
          reason = "mandate_revoked"
        } else if balance < request.amount.fen {
          reason = "insufficient_funds"
        }
      }
      if reason == nil {
        try db.execute(
          "UPDATE accounts SET balance_fen = balance_fen - ? WHERE number = ?", request.amount.fen,
          request.account)
      }
      try db.execute(
        "INSERT INTO deductions (key, licence, account, amount_fen, outcome, reason, at, day, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        request.key, request.licence, request.account, request.amount.fen,
        (reason == nil ? BankOutcome.settled : .failed).rawValue, reason, request.at.description,
        request.at.chinaDate.description, client)
      return try result(request.key)!
    }
  }

  func result(_ key: String) throws -> DeductionResult? {
    try db.fetchOne(
      "SELECT key, outcome, reason, amount_fen, at, refunded_at FROM deductions WHERE key = ?", key
    ) { row in
      DeductionResult(
        key: row.text(0), outcome: try row.value(1), reason: row.optionalText(2),
        amount: Money(fen: row.int64(3)), at: Timestamp(iso: row.text(4))!,
        refundedAt: row.optionalText(5).flatMap { Timestamp(iso: $0) })
    }
  }

  /// The client that made (or cancelled ahead) the deduction with `key`.
  func owner(_ key: String) throws -> String? {
    try db.fetchOne("SELECT client FROM deductions WHERE key = ?", key) { $0.text(0) }
  }

  /// The result for `key` if `client` made it; another client's key is as good as absent.
  func result(_ key: String, client: String) throws -> DeductionResult? {
    guard try owner(key) == client else { return nil }
    return try result(key)
  }

  /// Cancels `key` ahead of any deduction (a fine paid at a counter while the deduction's
  /// outcome was unknown): a later deduction with the key is then refused. Only the client
  /// that would make the deduction may do so, and only for a key it has not used.
  func cancel(_ key: String, client: String, at: Timestamp) throws -> DeductionResult {
    try DeductionRequest.validate(key: key)
    return try db.transaction {
      if let owner = try owner(key) {
        guard owner == client else {
          throw BankError(.notFound, "the bank has no deduction with key \(key) of yours")
        }
        return try result(key)!
      }
      try db.execute(
        "INSERT INTO deductions (key, licence, account, amount_fen, outcome, reason, at, day, client) VALUES (?, '', '', 0, 'cancelled', 'cancelled', ?, ?, ?)",
        key, at.description, at.chinaDate.description, client)
      return try result(key)!
    }
  }

  func refund(_ key: String, client: String, at: Timestamp) throws -> DeductionResult {
    try db.transaction {
      guard try owner(key) == client, let first = try result(key) else {
        throw BankError(.notFound, "the bank has no deduction with key \(key)")
      }
      switch first.outcome {
      case .reversed: return first
      case .settled:
        let account = try db.fetchOne(
          "SELECT account FROM deductions WHERE key = ?", key, map: { $0.text(0) })!
        try db.execute(
          "UPDATE accounts SET balance_fen = balance_fen + ? WHERE number = ?", first.amount.fen,
          account)
        try db.execute(
          "UPDATE deductions SET outcome = 'reversed', refunded_at = ?, refund_day = ? WHERE key = ?",
          at.description, at.chinaDate.description, key)
        return try result(key)!
      case .failed, .cancelled:
        throw BankError(
          .invalid,
          "deduction \(key) is \(first.outcome.rawValue); only a settled deduction is refunded")
      }
    }
  }

  func statement(on date: LocalDate, client: String) throws -> [StatementLine] {
    let day = date.description
    let deductions = try db.fetchAll(
      "SELECT key, amount_fen, at FROM deductions WHERE day = ? AND client = ? AND outcome IN ('settled', 'reversed') ORDER BY at, key",
      day, client
    ) {
      StatementLine(
        key: $0.text(0), kind: .deduction, amount: Money(fen: $0.int64(1)),
        at: Timestamp(iso: $0.text(2))!)
    }
    let refunds = try db.fetchAll(
      "SELECT key, amount_fen, refunded_at FROM deductions WHERE refund_day = ? AND client = ? ORDER BY refunded_at, key",
      day, client
    ) {
      StatementLine(
        key: $0.text(0), kind: .refund, amount: Money(fen: $0.int64(1)),
        at: Timestamp(iso: $0.text(2))!)
    }
    return deductions + refunds
  }

  // MARK: - Accounts and faults

  public struct Account: Sendable, Codable, Equatable {
    public let number: String
    public let bank: String
    public let holder: String
    public let balance: Money
    public let state: String
  }

  // MARK: - Clients

  /// Registers a client (central) with the 32-byte secret it signs its requests with.
  public func addClient(_ name: String, secret: [UInt8], at: Timestamp) throws {
    guard secret.count == 32 else {
      throw BankError(.invalid, "a client secret is 32 bytes, not \(secret.count)")
    }
    try db.execute(
      "INSERT INTO clients (name, secret, created_at) VALUES (?, ?, ?)", name, secret,
      at.description)
  }

  /// The secret of client `name`, if the bank knows it.
  public func clientSecret(_ name: String) throws -> [UInt8]? {
    try db.fetchOne("SELECT secret FROM clients WHERE name = ?", name) { $0.blob(0) }
  }

  public func accounts() throws -> [Account] {
    try db.fetchAll("SELECT number, bank, holder, balance_fen, state FROM accounts ORDER BY number")
    {
      Account(
        number: $0.text(0), bank: $0.text(1), holder: $0.text(2), balance: Money(fen: $0.int64(3)),
        state: $0.text(4))
    }
  }

  public func setBalance(_ account: String, _ balance: Money) throws {
    try db.execute("UPDATE accounts SET balance_fen = ? WHERE number = ?", balance.fen, account)
  }

  public func closeAccount(_ account: String) throws {
    try db.execute("UPDATE accounts SET state = 'closed' WHERE number = ?", account)
  }

  public func revokeMandate(licence: String) throws {
    try db.execute("UPDATE mandates SET state = 'revoked' WHERE licence = ?", licence)
  }

  public func addFault(_ kind: BankFault.Kind, after: Int, times: Int, delayMilliseconds: Int)
    throws -> BankFault
  {
    try db.execute(
      "INSERT INTO faults (kind, after, times, delay_ms) VALUES (?, ?, ?, ?)", kind.rawValue, after,
      times, delayMilliseconds)
    return try faults().last!
  }

  public func faults() throws -> [BankFault] {
    try db.fetchAll(
      "SELECT id, kind, after, times, delay_ms FROM faults WHERE times > 0 ORDER BY id"
    ) {
      BankFault(
        id: $0.int(0), kind: BankFault.Kind(rawValue: $0.text(1)) ?? .unavailable,
        after: $0.int(2), times: $0.int(3), delayMilliseconds: $0.int(4))
    }
  }

  public func clearFaults() throws { try db.execute("DELETE FROM faults") }

  /// The fault that applies to this call, consumed; nil when none does.
  func nextFault() throws -> BankFault? {
    try db.transaction {
      guard let fault = try faults().first else { return nil }
      if fault.after > 0 {
        try db.execute("UPDATE faults SET after = after - 1 WHERE id = ?", fault.id)
        return nil
      }
      try db.execute("UPDATE faults SET times = times - 1 WHERE id = ?", fault.id)
      return fault
    }
  }
}

/// The bank as one owner of its file: the in-process client, and what the HTTP server calls.
/// Injected faults apply to deductions, cancellations and refunds.
public actor BankEndpoint: BankClient {
  let store: BankStore

  public init(path: String) throws { store = try BankStore.open(path: path) }

  /// The client a local caller (central in the same home, through the file) acts as.
  public static let localClient = "central"

  public func deduct(_ request: DeductionRequest) async throws -> DeductionResult {
    try await deduct(request, client: Self.localClient)
  }

  public func deduction(_ key: String) async throws -> DeductionResult? {
    try deduction(key, client: Self.localClient)
  }

  public func cancel(_ key: String, at: Timestamp) async throws -> DeductionResult {
    try await cancel(key, client: Self.localClient, at: at)
  }

  public func refund(_ key: String, at: Timestamp) async throws -> DeductionResult {
    try await refund(key, client: Self.localClient, at: at)
  }

  public func statement(on date: LocalDate) async throws -> [StatementLine] {
    try statement(on: date, client: Self.localClient)
  }

  // The same operations for an authenticated client of the HTTP API.

  public func deduct(_ request: DeductionRequest, client: String) async throws
    -> DeductionResult
  {
    try await faulted { forced in try store.deduct(request, client: client, forced: forced) }
  }

  public func deduction(_ key: String, client: String) throws -> DeductionResult? {
    try store.result(key, client: client)
  }

  public func cancel(_ key: String, client: String, at: Timestamp) async throws
    -> DeductionResult
  {
    try await faulted { _ in try store.cancel(key, client: client, at: at) }
  }

  public func refund(_ key: String, client: String, at: Timestamp) async throws
    -> DeductionResult
  {
    try await faulted { _ in try store.refund(key, client: client, at: at) }
  }

  public func statement(on date: LocalDate, client: String) throws -> [StatementLine] {
    try store.statement(on: date, client: client)
  }

  /// The secret client `name` signs with, for the HTTP API's authentication.
  public func clientSecret(_ name: String) throws -> [UInt8]? { try store.clientSecret(name) }

  private func faulted(_ body: (String?) throws -> DeductionResult) async throws
    -> DeductionResult
  {
    let fault = try store.nextFault()
    switch fault?.kind {
    case .unavailable?:
      throw BankError(.unavailable, "the bank is unavailable (injected fault \(fault!.id))")
    case .timeoutAfterCommit?:
      _ = try body(nil)
      throw BankError(
        .timeout,
        "the bank did not answer in time (injected fault \(fault!.id), after it committed)")
    case .slow?:
      try await Task.sleep(for: .milliseconds(fault!.delayMilliseconds))
      return try body(nil)
    case .insufficientFunds?: return try body("insufficient_funds")
    case .mandateRevoked?: return try body("mandate_revoked")
    case .accountClosed?: return try body("account_closed")
    case nil: return try body(nil)
    }
  }
}
