import Foundation
import RoadsideCredentials
import RoadsideDomain
import RoadsideProtocol

// MARK: - Officers at central

/// Central keeps each officer's PIN hash and sends each terminal of the officer's unit its
/// own verifier (``OfficerNotice``). It follows every terminal's pushed audit chain: who
/// logged in where, wrong PINs (5 in a row across the fleet lock the officer on every
/// terminal), logouts and activity. Every record a terminal pushes is checked against that:
/// an officer unknown to central, of another unit, or not logged in on that terminal at that
/// time (by the chain) makes the record rejected with an `unknown_officer` conflict.
extension CentralService {
  /// Meta key telling that officers' verifiers were sent bound to terminals (schema 9).
  static let boundVerifiersMeta = "pin_verifiers"
  /// Meta key of the fewest PBKDF2 iterations a chosen PIN may have: absent (and so
  /// ``OfficerRules/chosenPINIterations``) except in simulated worlds, whose PINs protect
  /// nothing and whose speed matters.
  static let minimumPINIterationsMeta = "minimum_pin_iterations"

  /// Appends `officer` to the change log once for each of `terminals`, each with the PIN
  /// verifier bound to that terminal.
  func log(
    _ officer: OfficerState, to terminals: [TerminalState], action: String, reason: String?,
    at now: Timestamp, in tx: any CentralWriting
  ) throws {
    for terminal in terminals where terminal.unit == officer.unit {
      try tx.append(
        NewChange(
          entity: .officer, key: officer.id,
          payload: try CanonicalJSON.string(officer.notice(for: terminal.id)), audience: terminal.id
        ),
        at: now, action: action, reason: reason)
    }
  }

  /// Logs every officer to every terminal of their unit, and notes that verifiers are bound.
  func logEveryOfficer(action: String, at now: Timestamp, in tx: any CentralWriting) throws {
    let terminals = try tx.terminals()
    for officer in try tx.officers() {
      try log(officer, to: terminals, action: action, reason: nil, at: now, in: tx)
    }
    try tx.setMeta(Self.boundVerifiersMeta, "terminal-bound-v1")
  }

  /// A store migrated from schema 8 sent every terminal the same PIN hashes; the migration
  /// took them out of the log. This sends each terminal its bound verifiers, once.
  func bindVerifiersIfNeeded() throws {
    guard try store.read({ try $0.meta(Self.boundVerifiersMeta) }) == nil else { return }
    let now = clock.now()
    try store.write { tx in
      guard try tx.meta(Self.boundVerifiersMeta) == nil else { return }
      try logEveryOfficer(action: "officer.bind-verifiers", at: now, in: tx)
    }
  }

  /// Changes one officer and logs it to the terminals of their unit.
  private func changeOfficer(
    _ id: String, action: String, reason: String?, _ change: (inout OfficerState) throws -> Void,
    after: (OfficerState, any CentralWriting) throws -> Void = { _, _ in }
  ) throws -> OfficerState {
    let now = clock.now()
    return try store.write { tx in
      // Locked before it is read, as a push that counts a wrong PIN locks it.
      try tx.lock(officers: [id])
      guard var officer = try tx.officer(id) else {
        throw CentralError(
          .notFound,
          "no officer \(id) in the central store; list them with 'roadside central officer list'")
      }
      try change(&officer)
      try tx.update(officer)
      try after(officer, tx)
      try log(officer, to: try tx.terminals(), action: action, reason: reason, at: now, in: tx)
      return officer
    }
  }

  /// Unlocks an officer locked out after 5 wrong PINs, on a terminal or at central:
  /// terminals clear the lockout when they pull the change.
  public func unlockOfficer(_ id: String, reason: String?) throws -> OfficerState {
    try changeOfficer(id, action: "officer.unlock", reason: reason) {
      $0.unlockGeneration += 1
      $0.lockedAt = nil
      $0.lockedOn = nil
      $0.pinFailures = 0
    } after: { officer, tx in
      try tx.clearPINFailures(officer: officer.id)
    }
  }

  /// Sets an officer's PIN hash (computed by the caller from the PIN and a fresh salt). A
  /// PIN central sets is initial: the officer must choose a new one at first login.
  public func setOfficerPIN(_ id: String, hash: String, reason: String?) throws -> OfficerState {
    let now = clock.now()
    return try changeOfficer(id, action: "officer.set-pin", reason: reason) {
      $0.pinHash = hash
      $0.pinMustChange = true
      $0.pinSetAt = now
    } after: { officer, tx in
      try tx.savePIN(officer: officer.id, version: now.description, hash: hash)
    }
  }

  // MARK: Following the audit chain

  /// A conflict that a pushed audit entry reveals, before it is stored. A good login whose
  /// proof of the PIN does not verify with any PIN the officer had was not made by a login:
  /// `unknown_officer`. One on a terminal whose own chain shows 5 wrong PINs since the last
  /// good login there, with no unlock since, means the lockout was taken out of its file:
  /// `lockout_bypassed`. Either way no session is recognised.
  func conflict(revealedBy entry: AuditEntry, terminal: TerminalState, in tx: any CentralWriting)
    throws -> ConflictDraft?
  {
    guard entry.action == "login", entry.result == "ok",
      let officer = try tx.officer(entry.officer), officer.unit == terminal.unit
    else { return nil }
    guard let proof = entry.proof, let version = LoginProof.version(of: proof),
      let text = try tx.pinHash(officer: officer.id, version: version),
      let hash = try? PINHash(encoded: text),
      LoginProof.verify(
        proof, hash: hash.hash, terminal: entry.terminal, officer: officer.id, seq: entry.seq,
        at: entry.at.description)
    else {
      return ConflictDraft(
        kind: .unknownOfficer, licence: nil,
        description:
          "the login of officer \(officer.id) on \(entry.terminal) at \(entry.at) (audit entry \(entry.seq)) carries no valid proof of the officer's PIN: it was not made by a login",
        resolution:
          "no session is recognised: every record of that login is rejected; the unit must examine the terminal"
      )
    }
    let failures = try tx.pinFailures(terminal: entry.terminal, officer: officer.id)
    guard failures >= OfficerRules.maximumPINFailures else { return nil }
    return ConflictDraft(
      kind: .lockoutBypassed, licence: nil,
      description:
        "officer \(officer.id) logged in on \(entry.terminal) at \(entry.at), though its own audit chain showed \(failures) wrong PINs in a row there and central has not unlocked them: the lockout was removed from the terminal's file",
      resolution:
        "no session is recognised: every record of that login is rejected (unknown_officer); the unit must examine the terminal"
    )
  }

  /// Follows an audit entry once it is stored: sessions, wrong PINs, central's lockout.
  func follow(
    _ entry: AuditEntry, terminal: TerminalState, bypassed: Bool, at now: Timestamp,
    in tx: any CentralWriting
  ) throws {
    let session = try tx.session(terminal: terminal.id)
    switch (entry.action, entry.result) {
    case ("login", "ok"):
      guard !bypassed, var officer = try tx.officer(entry.officer), officer.unit == terminal.unit
      else {
        try tx.endSession(terminal: terminal.id)
        return
      }
      try tx.save(
        TerminalSession(
          terminal: terminal.id, officer: officer.id, startedAt: entry.at,
          lastActivityAt: entry.at))
      try tx.setPINFailures(terminal: terminal.id, officer: officer.id, 0)
      if officer.pinFailures != 0 {
        officer.pinFailures = 0
        try tx.update(officer)
      }
    case ("login", "wrong-pin"):
      // Only a terminal of the officer's unit can lock them.
      guard var officer = try tx.officer(entry.officer), officer.unit == terminal.unit else {
        return
      }
      try tx.setPINFailures(
        terminal: terminal.id, officer: officer.id,
        try tx.pinFailures(terminal: terminal.id, officer: officer.id) + 1)
      officer.pinFailures += 1
      let locks = officer.lockedAt == nil && officer.pinFailures >= OfficerRules.maximumPINFailures
      if locks {
        officer.lockedAt = entry.at
        officer.lockedOn = terminal.id
      }
      try tx.update(officer)
      if locks {
        try log(
          officer, to: try tx.terminals(), action: "officer.lock",
          reason:
            "\(officer.pinFailures) wrong PINs in a row, the last on \(terminal.id) at \(entry.at)",
          at: now, in: tx)
      }
    case ("login", _):
      break
    case ("logout", _):
      if session?.officer == entry.officer { try tx.endSession(terminal: terminal.id) }
    default:
      if var session, session.officer == entry.officer, session.lastActivityAt < entry.at {
        session.lastActivityAt = entry.at
        try tx.save(session)
      }
    }
  }

  /// Why a record made by `officer` on `terminal` at `at` cannot be accepted, or nil: the
  /// officer must be known, of the terminal's unit, and logged in on that terminal at that
  /// time by its pushed audit chain, the session not idle for more than 30 minutes.
  func officerRefusal(
    _ officer: String, at: Timestamp, terminal: TerminalState, in tx: any CentralWriting
  ) throws -> String? {
    guard let known = try tx.officer(officer) else {
      return "officer \(officer) is not known to central"
    }
    guard known.unit == terminal.unit else {
      return "officer \(officer) is of \(known.unit), not of \(terminal.id)'s unit \(terminal.unit)"
    }
    // By the order of the terminal's records, not their times: a terminal whose clock was
    // set back keeps its session, and so does central.
    guard let session = try tx.session(terminal: terminal.id), session.officer == officer else {
      return
        "officer \(officer) was not logged in on \(terminal.id) at \(at) according to the audit chain it pushed"
    }
    let idle = max(0, at.secondsSinceEpoch - session.lastActivityAt.secondsSinceEpoch)
    guard idle <= OfficerRules.sessionTimeoutSeconds else {
      return
        "the session of officer \(officer) on \(terminal.id) had ended by \(at): its last activity in the audit chain was at \(session.lastActivityAt)"
    }
    return nil
  }

  /// The draft of the `unknown_officer` conflict of a record refused by ``officerRefusal``.
  func unknownOfficer(_ reason: String, licence: String?) -> ConflictDraft {
    ConflictDraft(
      kind: .unknownOfficer, licence: licence, description: reason,
      resolution:
        "rejected: nothing of the record (nor of the batch's other records by that officer) was applied; the unit must find out who made it"
    )
  }

  /// Why a chosen PIN cannot replace the one in force, or nil.
  func pinChangeRefusal(_ change: PINChangeRecord, in tx: any CentralWriting) throws -> String? {
    guard let hash = try? PINHash(encoded: change.pinHash) else {
      return "the new PIN of officer \(change.officer) is not a pbkdf2-sha256 hash"
    }
    let minimumPINIterations =
      try tx.meta(Self.minimumPINIterationsMeta).flatMap { Int($0) }
      ?? OfficerRules.chosenPINIterations
    guard hash.iterations >= minimumPINIterations else {
      return
        "the new PIN of officer \(change.officer) is hashed with \(hash.iterations) PBKDF2 iterations; central requires at least \(minimumPINIterations)"
    }
    return nil
  }

  /// Tells `terminal` again the PIN in force for `officer`, after refusing its change: the
  /// terminal drops the one it chose.
  func resend(
    officer id: String, to terminal: TerminalState, at now: Timestamp, in tx: any CentralWriting
  )
    throws
  {
    guard let officer = try tx.officer(id) else { return }
    try log(
      officer, to: [terminal], action: "officer.pin-change-refused", reason: nil, at: now, in: tx)
  }

  /// Applies a PIN an officer chose on `terminal`, unless central set a newer one since.
  func apply(
    _ change: PINChangeRecord, terminal: TerminalState, at now: Timestamp,
    in tx: any CentralWriting
  ) throws {
    guard var officer = try tx.officer(change.officer) else { return }
    if let setAt = officer.pinSetAt, setAt > change.at { return }
    officer.pinHash = change.pinHash
    officer.pinMustChange = false
    officer.pinSetAt = change.at
    try tx.update(officer)
    try tx.savePIN(officer: officer.id, version: change.at.description, hash: change.pinHash)
    try log(
      officer, to: try tx.terminals(), action: "officer.pin-change",
      reason: "chosen on \(terminal.id) at \(change.at)", at: now, in: tx)
  }
}
