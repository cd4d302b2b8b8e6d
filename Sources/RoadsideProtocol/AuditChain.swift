import Foundation
public import RoadsideDomain

/// One entry of a terminal's hash-chained audit log: who looked what up, when, and what
/// they saw. Each entry's hash covers the previous entry's hash, so removing, reordering
/// or editing any entry breaks every hash after it.
public struct AuditEntry: Sendable, Codable, Equatable {
  /// 1, 2, 3, … on the terminal, without gaps.
  public let seq: Int64
  public let terminal: String
  public let at: Timestamp
  public let officer: String
  public let action: String
  public let subject: String
  public let result: String
  /// Hex SHA-256 of the previous entry (64 zeros for the first).
  public let previousHash: String
  /// Hex SHA-256 over this entry's fields and `previousHash`.
  public let hash: String
  /// For a successful login: proof that whoever logged in knew the officer's PIN, which
  /// central can check and the terminal's file cannot produce (`LoginProof`). Covered by
  /// `hash` when present; absent from every other entry.
  public let proof: String?

  public static let genesis = String(repeating: "0", count: 64)

  public init(
    seq: Int64, terminal: String, at: Timestamp, officer: String, action: String, subject: String,
    result: String, previousHash: String, hash: String, proof: String? = nil
  ) {
    self.proof = proof
    self.seq = seq
    self.terminal = terminal
    self.at = at
    self.officer = officer
    self.action = action
    self.subject = subject
    self.result = result
    self.previousHash = previousHash
    self.hash = hash
  }

  /// Builds the entry that follows `previous` (or the first), computing its hash.
  public static func next(
    after previous: AuditEntry?, terminal: String, at: Timestamp, officer: String,
    action: String, subject: String, result: String, proof: ((Int64) throws -> String)? = nil
  ) throws -> AuditEntry {
    let seq = (previous?.seq ?? 0) + 1
    let previousHash = previous?.hash ?? genesis
    let proof = try proof?(seq)
    return AuditEntry(
      seq: seq, terminal: terminal, at: at, officer: officer, action: action, subject: subject,
      result: result, previousHash: previousHash,
      hash: digest(
        seq: seq, terminal: terminal, at: at, officer: officer, action: action, subject: subject,
        result: result, previousHash: previousHash, proof: proof),
      proof: proof)
  }

  /// The hash input is the fields joined by newlines (fields never contain one: they are
  /// codes, IDs and ISO times; any newline is replaced by a space before hashing).
  static func digest(
    seq: Int64, terminal: String, at: Timestamp, officer: String, action: String,
    subject: String, result: String, previousHash: String, proof: String?
  ) -> String {
    let fields =
      ([
        "roadside-audit-v1", String(seq), terminal, at.description, officer, action, subject,
        result, previousHash,
      ] + (proof.map { [$0] } ?? [])).map { $0.replacingOccurrences(of: "\n", with: " ") }
    return Hex.sha256(Data(fields.joined(separator: "\n").utf8))
  }

  public var computedHash: String {
    AuditEntry.digest(
      seq: seq, terminal: terminal, at: at, officer: officer, action: action, subject: subject,
      result: result, previousHash: previousHash, proof: proof)
  }
}

/// What checking a chain found.
public enum AuditVerdict: Sendable, Equatable, CustomStringConvertible {
  case intact(entries: Int)
  /// Entry `seq` does not follow the one before it (an entry is missing).
  case gap(afterSeq: Int64, found: Int64)
  /// Entry `seq`'s hash does not match its fields (it was edited).
  case edited(seq: Int64)
  /// Entry `seq` does not point at the previous entry's hash (reordered or replaced).
  case broken(seq: Int64)

  public var description: String {
    switch self {
    case .intact(let n): "intact: \(n) entries"
    case .gap(let after, let found): "gap: entry \(found) follows entry \(after)"
    case .edited(let seq): "edited: entry \(seq) does not match its hash"
    case .broken(let seq): "broken: entry \(seq) does not follow the previous entry's hash"
    }
  }
}

public enum AuditChain {
  /// Checks `entries` (in sequence order), starting after `anchor` (the last entry already
  /// verified, or nil for the start of the log).
  public static func verify(_ entries: [AuditEntry], after anchor: AuditEntry? = nil)
    -> AuditVerdict
  {
    var previous = anchor
    for entry in entries {
      let expectedSeq = (previous?.seq ?? 0) + 1
      if entry.seq != expectedSeq { return .gap(afterSeq: expectedSeq - 1, found: entry.seq) }
      if entry.computedHash != entry.hash { return .edited(seq: entry.seq) }
      if entry.previousHash != (previous?.hash ?? AuditEntry.genesis) {
        return .broken(seq: entry.seq)
      }
      previous = entry
    }
    return .intact(entries: entries.count)
  }
}
