import ArgumentParser
import Foundation
import NIOSSL
import RoadsideCentral
import RoadsideDomain
import RoadsidePostgres
import RoadsideServing
import RoadsideStorage

/// The system clock. The only place in Roadside that reads the wall clock; every library
/// receives a `Clock` instead.
struct SystemClock: RoadsideDomain.Clock {
  func now() -> Timestamp {
    Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970.rounded(.down)))
  }
}

/// System randomness for keys, salts and record ids. Only the executable uses it; the
/// libraries take what it produces as arguments.
struct SystemIdentifiers: IdentifierSource {
  func nextUUID() -> String { UUID().uuidString.lowercased() }
}

func systemRandomBytes(_ count: Int) -> [UInt8] {
  var generator = SystemRandomNumberGenerator()
  return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// Options every command takes: where the state lives and what time it is.
struct GlobalOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Directory holding all state (default: $ROADSIDE_HOME, else ./.roadside).", valueName: "dir"))
  var home: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Fix the current time, ISO 8601 such as 2026-11-22T09:30:00+08:00 (default: $ROADSIDE_NOW, else the system clock).",
      valueName: "time"))
  var now: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "A PEM certificate to trust for https:// URLs of central or the bank, in place of the system's roots (a terminal keeps the one given at 'terminal init').",
      valueName: "file"))
  var ca: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The central store, for the commands that open it: a SQLite file, or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE shared by several central nodes (default: $ROADSIDE_STORE, else central.sqlite under the home).",
      valueName: "path|url"))
  var store: String?

  func validate() throws {
    _ = try clock()
    _ = try storeLocation()
    if let home, home.isEmpty { throw ValidationError("--home needs a directory path") }
  }

  /// The clock commands use: fixed by `--now` or `ROADSIDE_NOW`, else the system clock.
  func clock() throws -> any RoadsideDomain.Clock {
    if let now {
      guard let instant = Timestamp(iso: now) else {
        throw ValidationError(
          "--now \"\(now)\" is not an ISO 8601 time; write it like 2026-11-22T09:30:00+08:00")
      }
      return FixedClock(instant)
    }
    if let env = ProcessInfo.processInfo.environment["ROADSIDE_NOW"], !env.isEmpty {
      guard let instant = Timestamp(iso: env) else {
        throw ValidationError(
          "ROADSIDE_NOW \"\(env)\" is not an ISO 8601 time; write it like 2026-11-22T09:30:00+08:00"
        )
      }
      return FixedClock(instant)
    }
    return SystemClock()
  }

  /// The home directory: `--home`, else `ROADSIDE_HOME`, else `./.roadside`.
  var homeDirectory: URL {
    if let home { return URL(fileURLWithPath: home, isDirectory: true) }
    if let env = ProcessInfo.processInfo.environment["ROADSIDE_HOME"], !env.isEmpty {
      return URL(fileURLWithPath: env, isDirectory: true)
    }
    return URL(fileURLWithPath: ".roadside", isDirectory: true)
  }

  var layout: HomeLayout { HomeLayout(home: homeDirectory) }

  /// The central store: `--store`, else `ROADSIDE_STORE`, else the home's SQLite file.
  func storeLocation() throws -> CentralStoreLocation {
    let (text, source): (String, String)
    if let store {
      (text, source) = (store, "--store")
    } else if let env = ProcessInfo.processInfo.environment["ROADSIDE_STORE"], !env.isEmpty {
      (text, source) = (env, "ROADSIDE_STORE")
    } else {
      return .file(layout.centralStore.path)
    }
    guard !text.isEmpty else {
      throw ValidationError("--store needs a file path or a postgresql:// URL")
    }
    do {
      return try CentralStoreLocation(text)
    } catch {
      throw ValidationError("\(source): \(error.description)")
    }
  }

  /// Whether the central store is the home's own file (no --store, no ROADSIDE_STORE).
  var storeIsTheHomes: Bool {
    store == nil && (ProcessInfo.processInfo.environment["ROADSIDE_STORE"] ?? "").isEmpty
  }
}

/// `--tls-cert` and `--tls-key` of `central serve` and `bank serve`. Plain HTTP is served
/// only on loopback (the demo, scenarios and tests), unless `--plain-http` says a proxy in
/// front terminates TLS.
struct ServerTLSOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "The server's certificate chain, PEM (leaf first); serve HTTPS.", valueName: "file"))
  var tlsCert: String?
  @Option(help: ArgumentHelp("The certificate's private key, PEM.", valueName: "file"))
  var tlsKey: String?
  @Flag(
    help:
      "Serve plain HTTP on an address other than loopback (behind a proxy that terminates TLS).")
  var plainHTTP = false

  func validate(host: String) throws {
    guard (tlsCert == nil) == (tlsKey == nil) else {
      throw ValidationError("--tls-cert and --tls-key go together; give both or neither")
    }
    let loopback = ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.")
    if tlsCert == nil, !loopback, !plainHTTP {
      throw ValidationError(
        "serving plain HTTP on \(host) would carry personal data in clear; give --tls-cert and --tls-key, or --plain-http behind a proxy that terminates TLS"
      )
    }
  }

  /// The server's TLS configuration, or nil for plain HTTP.
  func configuration() throws -> TLSConfiguration? {
    guard let tlsCert, let tlsKey else { return nil }
    do {
      return try TLSFiles.serverConfiguration(certificate: tlsCert, key: tlsKey)
    } catch let error as TLSFileError {
      throw CLIError(.dataError, error.description)
    }
  }
}
