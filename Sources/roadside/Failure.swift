import ArgumentParser
import Foundation
import RoadsideBank
import RoadsideBankProtocol
import RoadsideCentral
import RoadsideDomain
import RoadsideFixtures
import RoadsidePostgres
import RoadsideProtocol
import RoadsideStorage
import RoadsideTerminal

/// The exit codes of `roadside`, after sysexits.h. They are part of the command-line API.
enum ExitStatus: Int32, CaseIterable {
  case ok = 0
  /// A wrong flag, a missing argument, an invalid option value (EX_USAGE).
  case usage = 64
  /// Bad data: a malformed ID, an unknown offence or class, a rule refusing the change, a
  /// fixture record at fault, a store file that is not ours or is damaged (EX_DATAERR).
  case dataError = 65
  /// Missing state: no central store in the home, no such licence or vehicle (EX_NOINPUT).
  case notFound = 66
  /// An internal failure, such as an unexpected SQLite error (EX_SOFTWARE).
  case software = 70
  /// Something to be created already exists (EX_CANTCREAT).
  case cannotCreate = 73
  /// A file could not be read or written (EX_IOERR).
  case ioError = 74
  /// Central cannot be reached, or failed (EX_UNAVAILABLE).
  case unavailable = 69
  /// Try again later: a second `sync` of the same terminal, or central's rate limit
  /// (EX_TEMPFAIL).
  case busy = 75
  /// Central or a terminal file broke the sync protocol (EX_PROTOCOL).
  case protocolError = 76
  /// No officer session, wrong PIN, locked officer, revoked terminal (EX_NOPERM).
  case notAuthorised = 77
}

/// A failure raised by the CLI layer itself.
struct CLIError: Error, CustomStringConvertible {
  let status: ExitStatus
  let description: String

  init(_ status: ExitStatus, _ description: String) {
    self.status = status
    self.description = description
  }
}

enum Failure {
  /// Prints one line, `error: …`, on standard error and exits with the documented code.
  static func exit(with error: any Error) -> Never {
    let (status, message): (ExitStatus, String)
    switch error {
    case let code as ExitCode where code != .validationFailure:
      // A verdict's exit code (verify): the verdict itself is already printed.
      Foundation.exit(code.rawValue)
    case let error as CLIError: (status, message) = (error.status, error.description)
    case let error as DomainError: (status, message) = (.dataError, error.description)
    case let error as FixtureError: (status, message) = (.dataError, error.description)
    case let error as CentralError:
      switch error.kind {
      case .notFound: (status, message) = (.notFound, error.description)
      case .unusableStore: (status, message) = (.dataError, error.description)
      case .alreadyExists: (status, message) = (.cannotCreate, error.description)
      case .refused: (status, message) = (.dataError, error.description)
      }
    case let error as TerminalError:
      switch error.kind {
      case .notFound: (status, message) = (.notFound, error.description)
      case .unusable: (status, message) = (.dataError, error.description)
      case .notAuthorised, .pinChangeRequired:
        (status, message) = (.notAuthorised, error.description)
      case .badInput: (status, message) = (.dataError, error.description)
      case .alreadyExists: (status, message) = (.cannotCreate, error.description)
      case .protocolViolation: (status, message) = (.protocolError, error.description)
      }
    case let error as APIError:
      switch error.httpStatus {
      case 401, 403: (status, message) = (.notAuthorised, error.description)
      case 404: (status, message) = (.notFound, error.description)
      case 400, 409, 413, 422: (status, message) = (.dataError, error.description)
      case 429: (status, message) = (.busy, error.description)
      default: (status, message) = (.unavailable, error.description)
      }
    case let error as BankError:
      switch error.kind {
      case .unavailable, .timeout: (status, message) = (.unavailable, error.description)
      case .notFound: (status, message) = (.notFound, error.description)
      case .keyReused, .invalid: (status, message) = (.dataError, error.description)
      case .unauthenticated: (status, message) = (.notAuthorised, error.description)
      case .internal: (status, message) = (.unavailable, error.description)
      }
    case let error as UnknownProtocolValue: (status, message) = (.protocolError, error.description)
    case let error as TransportError:
      (status, message) = (
        .unavailable, "\(error.description); the terminal keeps working offline, try again later"
      )
    case let error as SchemaError: (status, message) = (.dataError, error.description)
    case let error as PostgresStoreError:
      switch error.kind {
      case .malformedURL: (status, message) = (.usage, error.description)
      case .unavailable, .connectionLost: (status, message) = (.unavailable, error.description)
      case .server, .client: (status, message) = (.software, "internal storage error: \(error)")
      }
    case let error as SQLiteError where error.isNotADatabase:
      (status, message) = (
        .dataError, "the file is not a SQLite database or is damaged: \(error.message)"
      )
    case let error as SQLiteError:
      (status, message) = (.software, "internal storage error: \(error)")
    case let error as CocoaError:
      (status, message) = (.ioError, "file error: \(error.localizedDescription)")
    default:
      let code = Roadside.exitCode(for: error)
      if code == .success {
        Roadside.exit(withError: error)  // --help, --version
      }
      if code.rawValue == ExitStatus.usage.rawValue {
        let text = Roadside.message(for: error).split(separator: "\n").first.map(String.init) ?? ""
        (status, message) = (.usage, "\(text) (see 'roadside help')")
      } else {
        (status, message) = (.software, "\(error)")
      }
    }
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    Foundation.exit(status.rawValue)
  }
}
