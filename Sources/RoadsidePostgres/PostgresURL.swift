import Foundation

/// Where a PostgreSQL store lives: `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
/// (`postgres://` is the same). The only query parameter understood is `sslmode`, with
/// `disable` (the default: the loopback and unix-socket deployments this simulator runs)
/// or `require`; any other is refused rather than ignored.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
  public let user: String
  public let password: String?
  public let host: String
  public let port: Int
  public let database: String
  public let requireTLS: Bool

  public init(
    user: String, password: String? = nil, host: String, port: Int = 5432, database: String,
    requireTLS: Bool = false
  ) {
    self.user = user
    self.password = password
    self.host = host
    self.port = port
    self.database = database
    self.requireTLS = requireTLS
  }

  /// Whether `text` is meant as a PostgreSQL URL (and not a file path).
  public static func isURL(_ text: String) -> Bool {
    text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
  }

  /// Parses `text`; the error says which part is wrong.
  public init(_ text: String) throws(PostgresStoreError) {
    func malformed(_ why: String) -> PostgresStoreError {
      PostgresStoreError(
        .malformedURL,
        "\(why); a store URL is written postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
    }
    guard PostgresURL.isURL(text), let components = URLComponents(string: text) else {
      throw malformed("'\(PostgresURL.redacting(text))' is not a PostgreSQL URL")
    }
    guard let host = components.host, !host.isEmpty else {
      throw malformed("the store URL names no host")
    }
    guard let user = components.user, !user.isEmpty else {
      throw malformed("the store URL names no user")
    }
    let database = String(components.path.drop(while: { $0 == "/" }))
    guard !database.isEmpty, !database.contains("/") else {
      throw malformed("the store URL names no database")
    }
    var requireTLS = false
    for item in components.queryItems ?? [] {
      switch (item.name, item.value) {
      case ("sslmode", "disable"): requireTLS = false
      case ("sslmode", "require"): requireTLS = true
      default:
        throw malformed(
          "the store URL's parameter '\(item.name)=\(item.value ?? "")' is not understood (only sslmode=disable or sslmode=require)"
        )
      }
    }
    let port = components.port ?? 5432
    guard (1...65_535).contains(port) else {
      throw malformed("the store URL's port is not 1 to 65535")
    }
    self.init(
      // URLComponents has already decoded the percent-escapes of each part, once.
      user: user, password: components.password, host: host, port: port, database: database,
      requireTLS: requireTLS)
  }

  /// The URL with any password replaced by `***`: what messages and logs show.
  public var description: String {
    "postgresql://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
  }

  /// The URL with its password, percent-encoded: what a child process is given to connect
  /// (never what a message shows; that is ``description``).
  public var connectionString: String {
    func encoded(_ part: String) -> String {
      part.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? part
    }
    let credentials = encoded(user) + (password.map { ":" + encoded($0) } ?? "")
    let query = requireTLS ? "?sslmode=require" : ""
    return "postgresql://\(credentials)@\(host):\(port)/\(encoded(database))\(query)"
  }

  /// The same URL naming another database on the same server.
  public func database(_ name: String) -> PostgresURL {
    PostgresURL(
      user: user, password: password, host: host, port: port, database: name,
      requireTLS: requireTLS)
  }

  /// `text` with the password of anything that looks like a URL hidden.
  static func redacting(_ text: String) -> String {
    guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://"),
      scheme.upperBound < at
    else { return text }
    let credentials = text[scheme.upperBound..<at]
    guard let colon = credentials.firstIndex(of: ":") else { return text }
    return text[..<colon] + ":***" + text[at...]
  }
}

extension PostgresURL {
  /// Creates the empty database `name` on this URL's server (connecting as this URL's user
  /// to this URL's database) and returns the URL that names it. `name` is lower-case
  /// letters, digits and `_`, so that it needs no quoting.
  public func creatingDatabase(_ name: String) throws -> PostgresURL {
    try PostgresURL.checkName(name)
    let admin = try PostgresDatabase(self)
    defer { admin.close() }
    try admin.execute("CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8'")
    return database(name)
  }

  /// Drops the database `name` on this URL's server, if it exists.
  public func droppingDatabase(_ name: String) throws {
    try PostgresURL.checkName(name)
    let admin = try PostgresDatabase(self)
    defer { admin.close() }
    try admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
  }

  static func checkName(_ name: String) throws(PostgresStoreError) {
    guard !name.isEmpty, name.count <= 63,
      name.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
    else {
      throw PostgresStoreError(
        .malformedURL, "'\(name)' is not a database name here: use a-z, 0-9 and _, at most 63")
    }
  }
}
