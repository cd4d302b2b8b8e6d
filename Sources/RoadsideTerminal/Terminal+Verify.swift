import Foundation
public import RoadsideCredentials
public import RoadsideDomain
import RoadsideProtocol
import RoadsideStorage

/// What `verify` concluded, with what it saw.
public struct VerificationReport: Sendable, Codable, Equatable {
  public let terminal: String
  public let officer: String
  public let at: Timestamp
  public let verdict: Verdict
  /// The licence number, when the code disclosed it.
  public let licence: String?
  /// The claims the code disclosed (claim name → value).
  public let disclosed: [String: String]
  public let credentialEpoch: Int?
  public let vehicle: String?
  public let cacheAgeSeconds: Int64?
}

extension TerminalStore {
  /// What a verdict needs from the cache about `number` — status, epoch, validity, classes
  /// and the points of the current cycle — in one indexed query; nil when it is not cached.
  public func verificationFacts(_ number: LicenceNumber, today: LocalDate) throws -> LicenceFacts? {
    try db.fetchOne(
      """
      SELECT l.status, l.epoch, l.classes, l.term, l.valid_from, p.ledger
      FROM licences l LEFT JOIN points p ON p.licence = l.number WHERE l.number = ?
      """, number.value
    ) { row in
      let points =
        try row.optionalText(5).map {
          try JSONDecoder().decode(PointsLedger.self, from: Data($0.utf8)).total(on: today)
        } ?? 0
      return LicenceFacts(
        number: number, status: try LicenceStatus(code: row.text(0)), epoch: row.int(1),
        validity: Validity(
          term: ValidityTerm(rawValue: row.text(3)) ?? .sixYears,
          from: LocalDate(daysSinceEpoch: row.int(4))),
        classes: try LicenceClass.parseList(row.text(2)), points: points)
    }
  }
}

/// The replay cache in the terminal's file: a presentation id stays until its window closes,
/// across restarts.
struct StoredReplayGuard: ReplayGuard {
  let db: Connection

  mutating func firstSighting(of id: String, until: Timestamp, now: Timestamp) -> Bool {
    do {
      try db.execute("DELETE FROM presentations WHERE until < ?", now.secondsSinceEpoch)
      if try db.fetchOne("SELECT 1 FROM presentations WHERE id = ?", id, map: { $0.int(0) }) != nil
      {
        return false
      }
      try db.execute(
        "INSERT INTO presentations (id, until) VALUES (?, ?)", id, until.secondsSinceEpoch)
      return true
    } catch {
      return false  // cannot record it: treat as seen, never as fresh
    }
  }
}

extension Terminal {
  /// Verifies an e-licence code fully offline (docs/elicence-format.md): the presentation
  /// against the synced issuer keys, freshness with `policy`, the replay cache, the nonce,
  /// then the cached licence for the verdict. Requires a logged-in officer; the verification
  /// is written to the audit log and sent to central as a check record, in one transaction.
  public func verify(
    _ code: String, vehicle: LicenceClass?, nonce: String?,
    policy: FreshnessPolicy = FreshnessPolicy(),
    stalenessBudgetSeconds: Int64 = Terminal.stalenessBudgetSeconds
  ) throws -> VerificationReport {
    let now = clock.now()
    let today = now.chinaDate
    return try store.transaction {
      let officer = try requireSession(at: now)
      let identity = try store.identity()
      var replays = StoredReplayGuard(db: store.db)
      let presentation = ELicence.verify(
        code, keys: try store.issuerKeys(), now: now, expectedNonce: nonce, policy: policy,
        replays: &replays)
      let sync = try store.syncState()
      let age = sync.lastSuccessAt.map { now.secondsSinceEpoch - $0.secondsSinceEpoch }
      var facts: LicenceFacts?
      if case .success(let presented) = presentation, let disclosed = presented.disclosed[.number],
        let id = try? CitizenID(disclosed)
      {
        facts = try store.verificationFacts(id, today: today)
      }
      let verdict = Verdict.decide(
        presentation: presentation, facts: facts, cacheAgeSeconds: age,
        stalenessBudgetSeconds: stalenessBudgetSeconds, vehicle: vehicle, today: today)
      let presented = try? presentation.get()
      let report = VerificationReport(
        terminal: identity.terminal, officer: officer, at: now, verdict: verdict,
        licence: presented?.disclosed[.number],
        disclosed: Dictionary(
          uniqueKeysWithValues: (presented?.disclosed ?? [:]).map { ($0.key.rawValue, $0.value) }),
        credentialEpoch: presented?.claims.ep, vehicle: vehicle?.rawValue, cacheAgeSeconds: age)
      try appendAudit(
        officer: officer, action: "verify", subject: report.licence ?? "-",
        result: "\(verdict.outcome.rawValue) \(verdict.reasons.map(\.code).joined(separator: ","))",
        at: now)
      if let licence = report.licence {
        try appendOutbox(
          kind: .check,
          CheckRecord(
            licence: licence, at: now, officer: officer, found: facts != nil,
            statusSeen: facts?.status.code,
            epochSeen: presented?.claims.ep, cursor: sync.cursor),
          at: now)
      }
      return report
    }
  }
}
