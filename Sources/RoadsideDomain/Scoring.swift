/// A 12-month scoring cycle (记分周期), counted from the first-issue date
/// (公安部令第163号 §3). `start` is inclusive, `end` exclusive.
///
/// A cycle starts on each anniversary of the first issue. For a first issue on 29 February
/// the anniversary in a common year is 28 February (the last day of that February).
public struct ScoringCycle: Sendable, Hashable, Codable, CustomStringConvertible {
  public let start: LocalDate
  public let end: LocalDate

  public static func containing(_ date: LocalDate, firstIssued: LocalDate) -> ScoringCycle {
    var k = max(0, date.year - firstIssued.year - 1)
    while firstIssued.adding(years: k + 1) <= date { k += 1 }
    while k > 0, firstIssued.adding(years: k) > date { k -= 1 }
    return ScoringCycle(start: firstIssued.adding(years: k), end: firstIssued.adding(years: k + 1))
  }

  public init(start: LocalDate, end: LocalDate) {
    self.start = start
    self.end = end
  }

  public func contains(_ date: LocalDate) -> Bool { date >= start && date < end }

  /// The last day of the cycle.
  public var lastDay: LocalDate { end.adding(days: -1) }

  public var description: String { "\(start) – \(lastDay)" }
}

/// Points recorded with one penalty decision (公安部令第163号 §13: points are recorded
/// when the decision is made).
public struct PointsEntry: Sendable, Hashable, Codable {
  public let decisionNumber: String
  public let offenceCode: String
  public let points: Int
  /// The date of the decision.
  public let decidedOn: LocalDate
  /// Start of the cycle the points count in: the decision's cycle, or a later one when
  /// carried over because the fine was unpaid (§15).
  public var countsInCycle: LocalDate
  public var finePaid: Bool
  /// Revoked with its decision (§16).
  public var revoked: Bool
  /// Cleared by full-score education (§23).
  public var cleared: Bool

  public init(
    decisionNumber: String, offenceCode: String, points: Int, decidedOn: LocalDate,
    countsInCycle: LocalDate, finePaid: Bool, revoked: Bool = false, cleared: Bool = false
  ) {
    self.decisionNumber = decisionNumber
    self.offenceCode = offenceCode
    self.points = points
    self.decidedOn = decidedOn
    self.countsInCycle = countsInCycle
    self.finePaid = finePaid
    self.revoked = revoked
    self.cleared = cleared
  }

  /// Counts towards a total: neither revoked nor cleared.
  public var isLive: Bool { !revoked && !cleared }
}

/// Points taken off by study (§25, §27).
public struct PointsReduction: Sendable, Hashable, Codable {
  public let date: LocalDate
  public let points: Int
  public let cycleStart: LocalDate

  public init(date: LocalDate, points: Int, cycleStart: LocalDate) {
    self.date = date
    self.points = points
    self.cycleStart = cycleStart
  }
}

/// What recording a decision did to the ledger.
public struct PointsOutcome: Sendable, Equatable {
  public let cycle: ScoringCycle
  public let before: Int
  public let after: Int
  /// The total reached 12 with this decision: the licence is withheld, status B, and the
  /// holder must study and pass an exam (§17).
  public var reachedTwelve: Bool { PointsLedger.reachesFullScore(from: before, to: after) }
}

/// What closing a cycle did.
public struct CycleClosing: Sendable, Equatable {
  public let cycle: ScoringCycle
  public let total: Int
  /// Points moved into the next cycle: those of the cycle's unpaid fines when one of them
  /// was overdue at the cycle's end (§15), or all of them when the cycle reached 12 and
  /// awaits full-score education.
  public let carriedOver: Int
  /// Points cleared.
  public let cleared: Int
  /// The cycle reached 12: its points stay (moved into the next cycle) until full-score
  /// education ends (§23).
  public let heldForFullScoreEducation: Bool
  /// The decision whose fine was overdue and unpaid at the end, when points were carried
  /// for that reason.
  public let overdueFine: String?
}

/// One licence's points: every decision's points, reductions by study, and the cycle
/// arithmetic of 公安部令第163号.
///
/// Rules, with the article each comes from:
/// - points accumulate within a cycle (§14);
/// - reaching 12 withholds the licence and requires study and an exam (§17, §18);
/// - at the end of a cycle below 12, points clear; but when some fine of the cycle is
///   overdue (its 15 days to pay, 行政处罚法 §67, ran out before the cycle's last day) and
///   still unpaid at the end, the points of every offence of the cycle whose fine is unpaid
///   move into the next cycle (§15: "有罚款逾期未缴纳的，该记分周期内尚未缴纳罚款的交通违法
///   行为记分分值转入下一记分周期"). With no overdue fine everything clears, unpaid or not;
/// - a cycle at 12 or more moves all its points into the next cycle, where they stay (with
///   status B) until full-score education ends (§23), which clears them once every fine is
///   paid;
/// - revoking a decision revokes its points (§16);
/// - study reduces at most 6 points a cycle, and only while the total is below 12 (§25).
///   Reductions are not carried over: only unpaid decisions' points move.
public struct PointsLedger: Sendable, Hashable, Codable {
  public let firstIssued: LocalDate
  public private(set) var entries: [PointsEntry]
  public private(set) var reductions: [PointsReduction]
  /// Starts of cycles already closed.
  public private(set) var closedCycles: [LocalDate]

  /// The most a cycle's points may be reduced by study (§25).
  public static let maximumStudyReductionPerCycle = 6
  /// The full score (§17).
  public static let fullScore = 12

  /// Whether going from `before` to `after` points in one cycle reaches the full score
  /// (§17): below 12 before, 12 or more after.
  public static func reachesFullScore(from before: Int, to after: Int) -> Bool {
    before < fullScore && after >= fullScore
  }

  public init(
    firstIssued: LocalDate, entries: [PointsEntry] = [], reductions: [PointsReduction] = [],
    closedCycles: [LocalDate] = []
  ) {
    self.firstIssued = firstIssued
    self.entries = entries
    self.reductions = reductions
    self.closedCycles = closedCycles
  }

  public func cycle(on date: LocalDate) -> ScoringCycle {
    ScoringCycle.containing(date, firstIssued: firstIssued)
  }

  /// Points counting in the cycle that starts on `cycleStart`, net of reductions.
  public func total(inCycleStarting cycleStart: LocalDate) -> Int {
    let recorded = entries.lazy.filter { $0.isLive && $0.countsInCycle == cycleStart }
      .reduce(0) { $0 + $1.points }
    let reduced = reductions.lazy.filter { $0.cycleStart == cycleStart }.reduce(0) {
      $0 + $1.points
    }
    return max(0, recorded - reduced)
  }

  /// Points in the cycle containing `date`.
  public func total(on date: LocalDate) -> Int { total(inCycleStarting: cycle(on: date).start) }

  /// Records a decision's points. A decision number is recorded once; a repeat is refused.
  public mutating func record(
    decisionNumber: String, offenceCode: String, points: Int, decidedOn: LocalDate,
    finePaid: Bool
  ) throws(DomainError) -> PointsOutcome {
    guard [0, 1, 3, 6, 9, 12].contains(points) else {
      throw .invalid(
        "an offence scores 12, 9, 6, 3, 1 or 0 points (公安部令第163号 §8–§12), not \(points)")
    }
    guard !entries.contains(where: { $0.decisionNumber == decisionNumber }) else {
      throw .refused("decision \(decisionNumber) already has its points recorded")
    }
    let cycle = self.cycle(on: decidedOn)
    let before = total(inCycleStarting: cycle.start)
    entries.append(
      PointsEntry(
        decisionNumber: decisionNumber, offenceCode: offenceCode, points: points,
        decidedOn: decidedOn, countsInCycle: cycle.start, finePaid: finePaid))
    return PointsOutcome(cycle: cycle, before: before, after: total(inCycleStarting: cycle.start))
  }

  /// Revokes the points of a decision that was revoked or changed (§16).
  public mutating func revoke(decisionNumber: String) throws(DomainError) -> PointsEntry {
    guard let index = entries.firstIndex(where: { $0.decisionNumber == decisionNumber }) else {
      throw .refused("no points are recorded for decision \(decisionNumber)")
    }
    guard !entries[index].revoked else {
      throw .refused("the points of decision \(decisionNumber) are already revoked")
    }
    entries[index].revoked = true
    return entries[index]
  }

  /// Marks the fine of a decision as paid (it then no longer carries over).
  public mutating func markFinePaid(decisionNumber: String) throws(DomainError) {
    guard let index = entries.firstIndex(where: { $0.decisionNumber == decisionNumber }) else {
      throw .refused("no points are recorded for decision \(decisionNumber)")
    }
    entries[index].finePaid = true
  }

  /// Reduces points by study (§25): refused at 12 or more, capped at 6 a cycle and at the
  /// points there are. Returns the points actually taken off.
  public mutating func reduceByStudy(points: Int, on date: LocalDate) throws(DomainError) -> Int {
    guard points > 0 else { throw .invalid("a study reduction takes off at least 1 point") }
    let cycle = self.cycle(on: date)
    let current = total(inCycleStarting: cycle.start)
    guard current < PointsLedger.fullScore else {
      throw .refused(
        "study cannot reduce points once a cycle reaches 12 (公安部令第163号 §25); full-score education applies"
      )
    }
    let already = reductions.filter { $0.cycleStart == cycle.start }.reduce(0) { $0 + $1.points }
    let room = PointsLedger.maximumStudyReductionPerCycle - already
    guard room > 0 else {
      throw .refused("study has already reduced 6 points in this cycle, the most §25 allows")
    }
    guard current > 0 else { throw .refused("there are no points to reduce in this cycle") }
    let granted = min(points, room, current)
    reductions.append(PointsReduction(date: date, points: granted, cycleStart: cycle.start))
    return granted
  }

  /// Closes every cycle that ended on or before `date` (§15). Idempotent: a cycle is closed
  /// once, and a second call returns nothing.
  public mutating func closeCycles(through date: LocalDate) -> [CycleClosing] {
    var closings: [CycleClosing] = []
    var cycle = self.cycle(on: firstIssued)
    let current = self.cycle(on: date)
    while cycle.start < current.start {
      let next = ScoringCycle.containing(cycle.end, firstIssued: firstIssued)
      defer { cycle = next }
      if closedCycles.contains(cycle.start) { continue }
      let total = total(inCycleStarting: cycle.start)
      let held = total >= PointsLedger.fullScore
      let live = entries.indices.filter {
        entries[$0].countsInCycle == cycle.start && entries[$0].isLive
      }
      let overdue = live.first { index in
        !entries[index].finePaid
          && Payment.deadline(servedOn: entries[index].decidedOn) < cycle.lastDay
      }.map { entries[$0].decisionNumber }
      var carried = 0
      for index in live where held || (overdue != nil && !entries[index].finePaid) {
        entries[index].countsInCycle = next.start
        carried += entries[index].points
      }
      // Reductions stay with their cycle (see above), so the points moved can exceed the
      // cycle's net total; `carriedOver` reports what moved.
      closedCycles.append(cycle.start)
      closings.append(
        CycleClosing(
          cycle: cycle, total: total, carriedOver: carried, cleared: max(0, total - carried),
          heldForFullScoreEducation: held, overdueFine: held ? nil : overdue))
    }
    return closings
  }

  /// The day the points counting in the cycle of `date` reached 12 (the decision that took
  /// the running total, in decision order, to 12), or nil below 12.
  public func fullScoreReached(inCycleOf date: LocalDate) -> LocalDate? {
    let cycle = self.cycle(on: date)
    var running = 0
    for entry in entries.filter({ $0.isLive && $0.countsInCycle == cycle.start }).sorted(by: {
      ($0.decidedOn, $0.decisionNumber) < ($1.decidedOn, $1.decisionNumber)
    }) {
      running += entry.points
      if running >= PointsLedger.fullScore { return entry.decidedOn }
    }
    return nil
  }

  /// Full-score education passed (§23): clears the points of the cycle containing `date`,
  /// provided they reach 12 and every fine among them is paid.
  public mutating func completeFullScoreEducation(on date: LocalDate) throws(DomainError) {
    let cycle = self.cycle(on: date)
    let held = entries.indices.filter {
      entries[$0].isLive && entries[$0].countsInCycle == cycle.start
    }
    let heldTotal = total(inCycleStarting: cycle.start)
    guard heldTotal >= PointsLedger.fullScore else {
      throw .refused(
        "the licence has \(heldTotal) points, below 12; there is no full-score education to complete"
      )
    }
    if let unpaid = held.first(where: { !entries[$0].finePaid }) {
      throw .refused(
        "the fine of decision \(entries[unpaid].decisionNumber) is unpaid; points clear only when every fine is paid (公安部令第163号 §23)"
      )
    }
    for index in held { entries[index].cleared = true }
  }

  /// Days of study after reaching 12 (§18): 7, or 30 for A1 A2 A3 B1 B2 holders; 7 (30)
  /// more for each further time in the cycle or each further 12 points; at most 60 (120).
  public static func fullScoreStudyDays(
    classes: [LicenceClass], timesInCycle: Int, points: Int
  ) -> Int {
    let heavy = classes.contains(where: \.isHeavy)
    let base = heavy ? 30 : 7
    let cap = heavy ? 120 : 60
    let extra = max(timesInCycle - 1, points / 12 - 1, 0)
    return min(base * (1 + extra), cap)
  }
}

/// When an application to reduce points by study is not accepted (公安部令第163号 §25, §26).
public enum StudyReduction {
  /// Offences whose penalty in the last three cycles bars a reduction (§26(二)): leaving the
  /// scene of an accident, drink-driving, forged or another vehicle's plates or papers.
  public static let barringOffences: Set<String> = [
    "1201", "1202", "1203", "0609", "1204", "1205",
  ]

  /// Why a reduction is refused on `date`, with the article, or nil when it may go ahead.
  /// `decisions` are the licence's effective decisions; `fullScoreEducations` the days its
  /// full-score educations were passed. Not checked here: vehicles overdue for inspection
  /// in the holder's name (§26(四)) and fraud in earlier education (§26(五)) — Roadside
  /// keeps no such records.
  public static func refusal(
    licence: Licence, ledger: PointsLedger, decisions: [(offence: String, decidedOn: LocalDate)],
    fullScoreEducations: [LocalDate], on date: LocalDate
  ) -> String? {
    let cycle = ledger.cycle(on: date)
    let previous = ledger.cycle(on: cycle.start.adding(days: -1))
    let threeBack = ledger.cycle(on: previous.start.adding(days: -1))
    if licence.status.contains(.violationUnprocessed) {
      return
        "the licence has violations not yet processed (status H); study reduces points only once every violation is processed (公安部令第163号 §25)"
    }
    if date < licence.firstIssued.adding(years: 1) {
      return
        "the licence is in its probation period until \(licence.firstIssued.adding(years: 1).adding(days: -1)) (公安部令第162号 §76); study cannot reduce points then (公安部令第163号 §26(三))"
    }
    if licence.status.contains(.overdueReview) {
      return
        "the licence is overdue for its review (status S); study cannot reduce points then (公安部令第163号 §26(三))"
    }
    if licence.status.contains(.suspended) || licence.status.contains(.withheld) {
      return
        "study cannot reduce points while the licence is suspended or withheld (公安部令第163号 §26(三))"
    }
    if fullScoreEducations.filter({ $0 >= previous.start && $0 < cycle.end }).count >= 2 {
      return
        "the holder took full-score education twice or more in this or the previous cycle; study cannot reduce points (公安部令第163号 §26(一))"
    }
    if let barred = decisions.first(where: {
      barringOffences.contains($0.offence) && $0.decidedOn >= threeBack.start
        && $0.decidedOn < cycle.end
    }) {
      return
        "the holder was penalised for offence \(barred.offence) on \(barred.decidedOn), within the last three cycles; study cannot reduce points (公安部令第163号 §26(二))"
    }
    return nil
  }
}
