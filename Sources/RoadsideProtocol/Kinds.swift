/// The closed sets the sync protocol names: what a pushed record is, what central answered
/// for it, what a change-log entry is about, what a conflict is, and a terminal's standing.
/// Their raw values are the wire's spelling (`docs/openapi.json`, whose enums a test holds
/// to these).

public import RoadsideDomain

/// What a record a terminal pushes is.
public enum RecordKind: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  /// One entry of the terminal's audit chain.
  case audit
  /// A lookup's conclusion (``CheckRecord``).
  case check
  /// A violation observed (``ViolationRecord``).
  case violation
  /// A penalty decision, processing notice or compulsory-measure certificate
  /// (``DocumentSubmission``).
  case decision
  case notice
  case certificate
  /// A document voided (``VoidRecord``).
  case void
  /// An officer chose a new PIN (``PINChangeRecord``).
  case pinChange = "pin_change"

  /// The record kind that carries a document of this kind.
  public init(_ document: DocumentKind) {
    switch document {
    case .decision: self = .decision
    case .notice: self = .notice
    case .certificate: self = .certificate
    }
  }

  /// Every kind, as a sentence lists them: `audit, check, … and pin_change`.
  public static let spokenList: String = {
    let names = allCases.map(\.rawValue)
    return names.dropLast().joined(separator: ", ") + " and " + (names.last ?? "")
  }()

  /// The document kind a document record carries, or nil for other records.
  public var document: DocumentKind? {
    switch self {
    case .decision: .decision
    case .notice: .notice
    case .certificate: .certificate
    case .audit, .check, .violation, .void, .pinChange: nil
    }
  }
}

/// Central's answer for one record.
public enum RecordOutcome: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case accepted
  /// Already applied: the acknowledgement repeats the first one.
  case duplicate
  /// Not applied, with a reason.
  case rejected
  /// Applied or held, with a conflict report.
  case conflict
}

/// What kind of thing a change-log entry is about. Terminals apply entries by entity.
public enum ChangeEntity: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case licence
  case vehicle
  case officer
  case terminal
  case offence
  /// The whole points ledger of one licence (key: the licence number).
  case points
  /// The bank mandate of one licence (key: the licence number).
  case mandate
  case decision
  /// A violation a terminal recorded (key: its record id).
  case violation
  /// A conflict central detected (key: its id).
  case conflict
  /// A trusted issuer key, public part (key: its kid).
  case issuerKey = "issuer_key"
  /// Document numbers central allocated to a terminal (key: `terminal/first serial`).
  case numberRange = "number_range"
  /// A bank deduction's state (key: the decision number).
  case deduction
  /// The holiday calendar (key: `working-days`): terminals count reporting deadlines in
  /// working days (公安部令第157号 §81).
  case calendar
}

/// What a change-log entry does to its entity.
public enum ChangeOperation: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case upsert
  case delete
}

/// A conflict central detected between records, or between a record and what it knew.
public enum ConflictKind: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  /// The same offence by the same driver recorded twice (two terminals, one event).
  case duplicateEvent = "duplicate_event"
  /// A check read a status central had already changed.
  case staleStatus = "stale_status"
  /// A check accepted an e-licence epoch central had already superseded.
  case supersededEpoch = "superseded_epoch"
  /// Records from several terminals together take the cycle to 12 points.
  case pointsCross12 = "points_cross_12"
  /// A record's time is too far from central's.
  case clockSkew = "clock_skew"
  /// An upload from a terminal reported lost.
  case revokedTerminal = "revoked_terminal"
  /// A void of a decision whose fine the bank already took.
  case voidAfterDeduction = "void_after_deduction"
  /// A counter payment of a fine the bank had already taken.
  case paidBeforeDeduction = "paid_before_deduction"
  /// A record names an officer central cannot place on that terminal at that time.
  case unknownOfficer = "unknown_officer"
  /// A good login after the terminal's own chain showed the lockout's wrong PINs.
  case lockoutBypassed = "lockout_bypassed"
}

/// A violation central keeps until it is decided.
public enum ViolationState: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case pending
  /// Held for review: a probable duplicate of another terminal's record.
  case held
}

/// A terminal's standing at central.
public enum TerminalStatus: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case active
  /// Reported lost: every later upload is refused.
  case revoked
}

/// A value of a closed set central sent that this build does not know: central speaks a newer
/// protocol than this terminal reads. Decoding a change or an acknowledgement stops with it
/// (a protocol error, not a network one: retrying does not help; updating does).
public struct UnknownProtocolValue: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Decodes a closed-set value from its raw text, or throws ``UnknownProtocolValue``.
func decodeClosed<T: RawRepresentable>(
  _ decoder: any Decoder, _ message: (String) -> String
) throws -> T where T.RawValue == String {
  let raw = try decoder.singleValueContainer().decode(String.self)
  guard let value = T(rawValue: raw) else { throw UnknownProtocolValue(message(raw)) }
  return value
}

extension ChangeEntity {
  public init(from decoder: any Decoder) throws {
    self = try decodeClosed(decoder) {
      "central sent a change of kind \"\($0)\" this terminal does not know; update roadside"
    }
  }
}

extension ChangeOperation {
  public init(from decoder: any Decoder) throws {
    self = try decodeClosed(decoder) {
      "central sent a change operation \"\($0)\" this terminal does not know; update roadside"
    }
  }
}

extension RecordOutcome {
  public init(from decoder: any Decoder) throws {
    self = try decodeClosed(decoder) {
      "central acknowledged a record with the outcome \"\($0)\", which this terminal does not know; update roadside"
    }
  }
}
