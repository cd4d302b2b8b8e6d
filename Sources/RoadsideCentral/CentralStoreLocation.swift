public import RoadsidePostgres

/// Where the central store lives: a SQLite file (the default, `central.sqlite` under
/// `--home`), or a PostgreSQL database that any number of central nodes share.
public enum CentralStoreLocation: Sendable, Hashable, CustomStringConvertible {
  case file(String)
  case postgresql(PostgresURL)

  /// `text` as a PostgreSQL URL when it begins `postgresql://` or `postgres://`, else as
  /// the path of a SQLite file. A malformed URL is an error, never taken for a file name.
  public init(_ text: String) throws(PostgresStoreError) {
    self = PostgresURL.isURL(text) ? .postgresql(try PostgresURL(text)) : .file(text)
  }

  /// Whether the store is a PostgreSQL database (else a SQLite file).
  public var isPostgreSQL: Bool {
    if case .postgresql = self { true } else { false }
  }

  /// The path, or the URL without its password.
  public var description: String {
    switch self {
    case .file(let path): path
    case .postgresql(let url): url.description
    }
  }
}
