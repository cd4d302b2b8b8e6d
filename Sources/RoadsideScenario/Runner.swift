import Crypto
public import Foundation
import RoadsideBank
import RoadsideBankProtocol
import RoadsideCentral
import RoadsideCredentials
import RoadsideDomain
import RoadsideFixtures
import RoadsideHolder
public import RoadsideMutants
import RoadsideProtocol
import RoadsideStorage
import RoadsideTerminal
import Synchronization

/// One expectation that did not hold.
public struct ExpectationFailure: Sendable, Codable, Equatable {
  public let line: Int
  public let step: String
  public let key: String
  public let expected: String
  public let actual: String
}

/// What a step did, as the transcript records it.
public struct StepReport: Sendable, Codable, Equatable {
  public let line: Int
  public let step: String
  public let outcome: [String]
  public let failures: [ExpectationFailure]
}

/// A trainee's answer to one drill question, scored.
public struct DrillAnswer: Sendable, Codable, Equatable {
  public let line: Int
  public let prompt: String
  public let field: String
  public let expected: String
  public let given: String
  public let correct: Bool
  public let explanation: String
}

public struct ScenarioReport: Sendable, Codable, Equatable {
  public let file: String
  public let name: String
  public let description: String
  public let seed: UInt64
  public let steps: [StepReport]
  /// SHA-256 of the transcript: the same file and seed always give the same hash.
  public let transcriptHash: String
  public let drill: [DrillAnswer]
  /// Set when the world could not be built or a step could not be carried out at all.
  public let abortedBy: String?
  public let seconds: Double

  public var failures: [ExpectationFailure] { steps.flatMap(\.failures) }
  public var passed: Bool { abortedBy == nil && failures.isEmpty }
}

/// Asks the trainee at a drill step: the question, what the officer sees, the fields to
/// answer; returns field → answer.
public typealias DrillAsker = @Sendable (DrillQuestion, String) async -> [String: String]

/// Runs scenarios in-process against the production code, with the simulated clock and
/// network. Deterministic: the same scenario and seed give the same transcript.
public struct ScenarioRunner: Sendable {
  public let seed: UInt64?
  public let asker: DrillAsker?
  /// Build the world here and keep it (default: a temporary home, removed afterwards).
  public let home: URL?
  /// The deliberate bug central and the terminals carry (`scenario run --mutant`).
  public let mutant: Mutant?

  public init(
    seed: UInt64? = nil, asker: DrillAsker? = nil, home: URL? = nil, mutant: Mutant? = nil
  ) {
    self.seed = seed
    self.asker = asker
    self.home = home
    self.mutant = mutant
  }

  public func run(_ scenario: Scenario) async -> ScenarioReport {
    await runRecording(scenario).report
  }

  /// Runs the scenario and draws it (``Timeline``): each step when it was taken, and the
  /// expectations that failed.
  public func runWithTimeline(_ scenario: Scenario) async -> (report: ScenarioReport, svg: String) {
    let (report, taken) = await runRecording(scenario)
    let failures = report.failures.map {
      InvariantViolation(
        invariant: "line \($0.line)",
        detail: $0.key == "invariants"
          ? $0.actual : "\($0.key) expected \($0.expected), was \($0.actual)")
    }
    let timeline = Timeline(
      title: "roadside scenario run \(scenario.file) (seed \(report.seed))",
      terminals: scenario.terminals.map(\.id), steps: taken,
      violations: failures
        + (report.abortedBy.map { [InvariantViolation(invariant: "aborted", detail: $0)] } ?? []))
    return (report, timeline.svg())
  }

  func runRecording(_ scenario: Scenario) async -> (report: ScenarioReport, steps: [ScheduledStep])
  {
    let started = ContinuousClock.now
    let seed = self.seed ?? scenario.seed
    var steps: [StepReport] = []
    var taken: [ScheduledStep] = []
    var drill: [DrillAnswer] = []
    var aborted: String?
    do {
      let world = try await ScenarioWorld(scenario, seed: seed, home: home, mutant: mutant)
      var state = RunState()
      for step in scenario.steps {
        let at = world.clock.now()
        let report = await execute(step, in: world, state: &state, drill: &drill)
        steps.append(report)
        let error = report.outcome.first.flatMap {
          $0.hasPrefix("error: ") ? String($0.dropFirst(7)) : nil
        }
        taken.append(
          ScheduledStep(
            action: step.action, error: error, at: at, outcome: error == nil ? report.outcome : []))
      }
    } catch {
      aborted = "the world could not be built: \(error)"
    }
    let transcript = steps.map { step in
      "\(step.line) \(step.step)\n" + step.outcome.map { "  \($0)\n" }.joined()
    }.joined()
    let hash = SHA256.hash(data: Data(transcript.utf8)).map { String(format: "%02x", $0) }.joined()
    let elapsed = ContinuousClock.now - started
    let report = ScenarioReport(
      file: scenario.file, name: scenario.name, description: scenario.description, seed: seed,
      steps: steps, transcriptHash: hash, drill: drill, abortedBy: aborted,
      seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    return (report, taken)
  }

  /// What earlier steps left for expectations to look at.
  struct RunState {
    var verdict: Verdict?
    var lookup: LookupResult?
    var stop: StopReport?
    var deductions: DeductionRun?
    var error: String?
    var codes: [String: String] = [:]
    var documents: [String] = []
    var licence: String?
    /// What the last `invariants` step found.
    var violations: [InvariantViolation] = []
    var divergences = Invariants.Divergences()
    /// The day's properties, watched after every sync (``PropertyWatch``).
    var watch = PropertyWatch()
  }

  /// The properties after terminal `id`'s sync (`synced`: it got through and emptied the
  /// outbox).
  func observe(_ id: String, synced: Bool, in world: ScenarioWorld, state: inout RunState)
    throws
  {
    try state.watch.observe(
      terminal: id, db: try Connection(path: world.terminalPath(id)),
      central: try world.centralDatabase(), synced: synced)
  }

  func execute(
    _ step: Step, in world: ScenarioWorld, state: inout RunState, drill: inout [DrillAnswer]
  ) async -> StepReport {
    var outcome: [String] = []
    let name = describe(step.action)
    state.error = nil
    // A drill asks before the step happens, showing only what the officer sees then.
    if let ask = step.ask, let asker {
      let seen = (try? briefing(step.action, in: world)) ?? name
      let answers = await asker(ask, seen)
      for field in ask.answers.keys.sorted() {
        let expected = ask.answers[field]!
        let given = answers[field] ?? ""
        drill.append(
          DrillAnswer(
            line: step.line, prompt: ask.prompt, field: field, expected: expected, given: given,
            correct: normalise(given) == normalise(expected), explanation: ask.explanation))
      }
    }
    do {
      outcome = try await perform(step.action, in: world, state: &state)
    } catch {
      state.error = "\(error)"
      outcome = ["error: \(error)"]
    }
    var failures: [ExpectationFailure] = []
    if case .invariants = step.action {
      failures += state.violations.map {
        ExpectationFailure(
          line: step.line, step: name, key: "invariants", expected: "hold",
          actual: $0.description)
      }
    }
    let errorExpected = step.expect.contains { $0.key == "error" }
    if let error = state.error, !errorExpected {
      failures.append(
        ExpectationFailure(
          line: step.line, step: name, key: "error", expected: "no error", actual: error))
    }
    if let licence = step.expect.first(where: { $0.key == "licence" }) {
      state.licence = licence.value.description
    }
    for expectation in step.expect where expectation.key != "licence" {
      let actual: String
      do {
        actual = try await self.actual(expectation, in: world, state: state)
      } catch {
        actual = "could not be read: \(error)"
      }
      if !matches(expectation, actual) {
        failures.append(
          ExpectationFailure(
            line: expectation.line, step: name, key: expectation.key,
            expected: expectation.value.description, actual: actual))
      }
    }
    return StepReport(line: step.line, step: name, outcome: outcome, failures: failures)
  }

  func normalise(_ text: String) -> String {
    text.lowercased().split(whereSeparator: { $0 == "," || $0 == " " }).sorted().joined(
      separator: ",")
  }

  /// Exact, except `error`, which names a part of the message.
  func matches(_ expectation: Expectation, _ actual: String) -> Bool {
    if expectation.key == "error", case .text(let part) = expectation.value {
      return actual.contains(part)
    }
    return actual == expectation.value.description
  }

  // MARK: - Actions

  func perform(_ action: Action, in world: ScenarioWorld, state: inout RunState) async throws
    -> [String]
  {
    let clock = world.clock
    switch action {
    case .sync(let id, let mayFail):
      let terminal = try world.terminal(id)
      let link = try world.link(id)
      do {
        let pushed = try await terminal.push(transport: link, attempts: 3, sleep: { _ in })
        let pulled = try await terminal.pull(transport: link)
        try observe(id, synced: try terminal.store.outboxDepth() == 0, in: world, state: &state)
        return [
          "pushed \(pushed.accepted) accepted, \(pushed.duplicates) duplicate, \(pushed.rejected) rejected, \(pushed.conflicts) conflict; pulled \(pulled.changes) changes"
        ]
      } catch let error as TransportError where mayFail {
        // Only the network may fail such a step: central refusing a batch, or a terminal
        // fault, is an error as in any other sync.
        try observe(id, synced: false, in: world, state: &state)
        return [
          "the sync did not get through (\(error)); the outbox keeps \(try terminal.store.outboxDepth()) record(s)"
        ]
      }
    case .offline(let ids):
      for id in ids { try world.link(id).state.withLock { $0.online = false } }
      return ["\(ids.joined(separator: ", ")) off the network"]
    case .online(let ids):
      for id in ids { try world.link(id).state.withLock { $0.online = true } }
      return ["\(ids.joined(separator: ", ")) back on the network"]
    case .link(let id, let faults):
      try world.link(id).state.withLock { $0.faults = faults }
      return [
        "link \(id): drop requests \(faults.dropRequests), drop answers \(faults.dropResponses), duplicate \(faults.duplicate), reorder \(faults.reorder), delay \(faults.delaySeconds) s"
      ]
    case .advance(let seconds):
      clock.advance(seconds: seconds)
      return ["clock \(clock.now())"]
    case .crash(let id):
      // What was committed survives (the officer's session too: it is in the file).
      try world.crash(id)
      return ["\(id) crashed and restarted from its file"]
    case .central(let change):
      return [try centralChange(change, in: world, state: &state)]
    case .present(let p):
      let terminal = try world.terminal(p.terminal)
      let number = try CitizenID(p.holder)
      let code: String
      if p.replay, let previous = state.codes[p.holder] {
        code = previous
      } else {
        let claims = try (p.disclose ?? ClaimName.allCases.map(\.rawValue)).map { text in
          guard let claim = ClaimName(rawValue: text) else {
            throw ScenarioFailure("unknown claim \"\(text)\"")
          }
          return claim
        }
        guard
          let shown = try world.holder().present(
            number, at: clock.now().adding(seconds: p.phoneClockSeconds), disclose: claims,
            nonce: p.nonce)
        else {
          throw ScenarioFailure("holder \(number.masked) has no phone in this world")
        }
        guard let presented = shown.code else {
          throw ScenarioFailure("holder \(number.masked) has no e-licence to show")
        }
        code = presented
      }
      state.codes[p.holder] = code
      clock.advance(seconds: p.delaySeconds)
      let report = try terminal.verify(
        code, vehicle: try p.vehicle.map { try LicenceClass(code: $0) },
        nonce: p.terminalNonce ?? p.nonce,
        stalenessBudgetSeconds: p.stalenessSeconds ?? Terminal.stalenessBudgetSeconds)
      state.verdict = report.verdict
      return [report.verdict.sentence]
    case .lookup(let id, let licence):
      let result = try world.terminal(id).lookup(try CitizenID(licence))
      state.lookup = result
      let summary =
        result.found
        ? "found: status \(result.licence!.status.code), \(result.points!.total) points (\(result.points!.provisional) provisional), cache \(result.cacheStale ? "stale" : "fresh")"
        : "not in the cache"
      return [summary]
    case .record(let s):
      let fines = s.fines.map { $0.map { Optional($0) } } ?? s.offences.map { _ in nil }
      guard fines.count == s.offences.count else {
        throw ScenarioFailure("record gives \(fines.count) fines for \(s.offences.count) offences")
      }
      let report = try world.terminal(s.terminal).recordStop(
        licence: try CitizenID(s.licence), plate: try Plate(s.plate),
        vehicle: try LicenceClass(code: s.vehicle),
        offences: zip(s.offences, fines).map { (code: $0, fineYuan: $1) }, place: s.place,
        locationCode: nil, note: nil, refusedToSign: s.refusedToSign)
      state.stop = report
      state.documents += report.documents.map(\.number)
      return report.documents.map { "\($0.kind) \($0.number) \($0.charge.offence) \($0.penalty)" }
        + [
          "points \(report.pointsBefore) → \(report.pointsAfter)"
            + (report.paperLicenceRequired ? "; paper licence required" : "")
        ]
    case .void(let id, let ref, let reason):
      let number = try document(ref, state)
      _ = try world.terminal(id).voidDocument(number, reason: reason)
      return ["voided \(number)"]
    case .bankFault(let kind, let after, let times):
      // Only a slow bank takes its time; the others answer at once.
      let fault = try BankStore.open(path: world.bankPath).addFault(
        BankFault.Kind(rawValue: kind)!, after: after, times: times,
        delayMilliseconds: kind == "slow" ? 10 : 0)
      return ["bank fault \(fault.kind.rawValue) for \(times) call(s) after \(after)"]
    case .deduct:
      let run = try await world.central().runDeductions(bank: world.bank)
      state.deductions = run
      return [
        "deductions: \(run.settled.count) settled, \(run.failed.count) failed, \(run.unknown.count) unknown, \(run.cancelled.count) cancelled, \(run.reversed.count) refunded"
      ]
    case .decide(let ref, let fine, let measure):
      let number = try document(ref, state)
      let outcome = try world.central().decideNotice(
        number, fineYuan: fine, measure: measure, reason: "scenario")
      state.documents.append(outcome.decision.number)
      state.licence = outcome.decision.licence
      return [
        "decided \(number): decision \(outcome.decision.number) \(outcome.decision.penalty); status \(outcome.licence.status.code), \(outcome.pointsAfter) points"
          + (outcome.deductionQueued ? "; deduction queued" : "")
      ]
    case .check:
      return []
    case .crashDuringSync(let id, let commits):
      let terminal = try world.terminal(id)
      let link = try world.link(id)
      terminal.store.failCommits(after: commits)
      var told = "the sync ended before the power cut"
      do {
        _ = try await terminal.push(transport: link, attempts: 3, sleep: { _ in })
        _ = try await terminal.pull(transport: link)
      } catch {
        told = "the sync died: \(error)"
      }
      try world.crash(id)
      try observe(id, synced: false, in: world, state: &state)
      return ["\(id) lost power after \(commits) commit(s) of its sync (\(told)); restarted"]
    case .settle:
      let (lines, rounds) = try await world.settle()
      state.watch.rounds = rounds
      for id in world.order {
        try observe(
          id, synced: try world.terminal(id).store.outboxDepth() == 0, in: world, state: &state)
      }
      if rounds.map({ $0 > PropertyWatch.roundBound }) ?? true {
        state.watch.fail(
          "converges", "the world",
          rounds.map { "took \($0) rounds of syncing, more than \(PropertyWatch.roundBound)" }
            ?? "did not converge in \(2 * PropertyWatch.roundBound) rounds of syncing")
      }
      return lines
    case .invariants:
      let (divergences, violations) = try await world.invariants()
      state.violations = violations + state.watch.violations
      state.divergences = divergences
      return violations.isEmpty
        ? ["the invariants hold (\(divergences.total) divergence(s), each with its conflict)"]
        : violations.map(\.description)
    case .skew(let id, let seconds):
      _ = try world.terminal(id)
      world.terminalClocks[id]?.set(offsetSeconds: seconds)
      return ["\(id)'s clock is \(seconds) s off the world's"]
    case .login(let id):
      guard let officer = world.officers[id] else {
        throw ScenarioFailure("no terminal \(id) in this world; declare it under world.terminals")
      }
      try world.terminal(id).logIn(officer: officer)
      return ["officer \(officer) logged in on \(id)"]
    }
  }

  /// What the officer sees before the step: the phone's screen and the vehicle, or the stop
  /// about to be recorded with the points the terminal shows.
  func briefing(_ action: Action, in world: ScenarioWorld) throws -> String {
    switch action {
    case .present(let p):
      let number = try CitizenID(p.holder)
      let holder = try world.holder()
      guard let phone = try holder.refreshedPhone(number, save: false) else {
        return "the driver has no e-licence on their phone"
      }
      let screen = try holder.screen(phone, at: world.clock.now(), code: nil)
      return """
        phone: \(screen.colour == "black" ? "black (normal)" : "RED"), \(screen.name), classes \(screen.classes), validity \(screen.validity), status \(screen.status), \(screen.points) points\(screen.reapply ? ", says: superseded, re-apply" : "")
        vehicle stopped: class \(p.vehicle ?? "not checked")\(p.delaySeconds > 60 ? "; the code was shown \(p.delaySeconds) s before the check" : "")
        """
    case .record(let s):
      let terminal = try world.terminal(s.terminal)
      let number = try CitizenID(s.licence)
      let catalogue = OffenceCatalogue.current
      let offences = s.offences.enumerated().map { index, code in
        let offence = catalogue.offence(code)
        let fine = s.fines.map { " — \($0[index]) yuan" } ?? ""
        return
          "\(code) \(offence?.chinese ?? "?") (\(offence?.english ?? "?"), \(offence?.points ?? 0) points)\(fine)"
      }
      let cached = try terminal.store.licence(number)
      let points = try cached.map {
        try terminal.pointsNow(
          number, firstIssued: $0.firstIssued, today: world.clock.now().chinaDate)
      }
      return """
        stop: \(number.masked), vehicle \(s.plate) (\(s.vehicle)), \(points.map { "\($0) points in the cycle" } ?? "not in the cache")
        offences: \(offences.joined(separator: "; "))
        """
    default:
      return describe(action)
    }
  }

  func document(_ ref: String, _ state: RunState) throws -> String {
    switch ref {
    case "last":
      guard let last = state.documents.last else { throw ScenarioFailure("no document yet") }
      return last
    case "first":
      guard let first = state.documents.first else { throw ScenarioFailure("no document yet") }
      return first
    default:
      if let index = Int(ref), index >= 1, index <= state.documents.count, ref.count < 5 {
        return state.documents[index - 1]
      }
      return ref
    }
  }

  func centralChange(_ change: CentralAction, in world: ScenarioWorld, state: inout RunState)
    throws -> String
  {
    let central = try world.central()
    let reason = "scenario"
    switch change {
    case .suspend(let n):
      return
        "suspended: status \(try central.suspend(try CitizenID(n), until: nil, reason: reason).licence.status.code)"
    case .withhold(let n):
      return
        "withheld: status \(try central.withhold(try CitizenID(n), reason: reason).licence.status.code)"
    case .reinstate(let n):
      return
        "reinstated: status \(try central.reinstate(try CitizenID(n), reason: reason).licence.status.code)"
    case .revoke(let n):
      return
        "revoked: status \(try central.revoke(try CitizenID(n), reason: reason).licence.status.code)"
    case .renew(let n):
      return "renewed: epoch \(try central.renew(try CitizenID(n), reason: reason).licence.epoch)"
    case .changeClass(let n, let to):
      let outcome = try central.changeClasses(
        try CitizenID(n), to: try LicenceClass.parseList(to), reason: reason)
      return "classes \(outcome.licence.classes.code), epoch \(outcome.licence.epoch)"
    case .rotateKey(let kid):
      let key = try central.rotateIssuerKey(kid: kid, seed: world.bytes(32), reason: reason)
      return "issuer key \(key.kid) active"
    case .revokeKey(let kid):
      return "issuer key \(try central.revokeIssuerKey(kid, reason: reason).kid) revoked"
    case .pay(let ref):
      let number = try document(ref, state)
      let (decision, conflict) = try central.payAtCounter(number)
      return "paid \(decision.number) at a counter"
        + (conflict.map { "; conflict \($0.kind)" } ?? "")
    case .apply(let n):
      let application = try world.holder().apply(try CitizenID(n))
      return "applied; review completes \(application.readyAt)"
    case .revokeTerminal(let id):
      return
        "terminal \(try central.revokeTerminal(id: id, reason: reason).id) revoked (reported lost)"
    case .education(let n, let completed, let passed):
      let outcome = try central.completeEducation(
        try CitizenID(n), completed: LocalDate(iso: completed)!, passed: passed, reason: reason)
      return
        "full-score exam \(passed ? "passed" : "failed"): status \(outcome.licence.status.code)"
    }
  }

  /// A step in a few words, as transcripts and timelines name it.
  public func describe(_ action: Action) -> String {
    switch action {
    case .sync(let t, let mayFail): mayFail ? "sync \(t) (may fail on the network)" : "sync \(t)"
    case .offline(let t): "offline \(t.joined(separator: ", "))"
    case .online(let t): "online \(t.joined(separator: ", "))"
    case .link(let t, _): "link \(t)"
    case .advance(let s): "advance \(s) s"
    case .crash(let t): "crash \(t)"
    case .central(let c): "central \(c)"
    case .present(let p): "present \(CitizenID.masked(p.holder)) to \(p.terminal)"
    case .lookup(let t, let l): "lookup \(CitizenID.masked(l)) on \(t)"
    case .record(let s): "record \(s.offences.joined(separator: ",")) on \(s.terminal)"
    case .void(let t, let d, _): "void \(d) on \(t)"
    case .bankFault(let k, _, _): "bank fault \(k)"
    case .deduct: "deduct"
    case .decide(let d, _, _): "decide \(d)"
    case .check: "check"
    case .login(let t): "login on \(t)"
    case .skew(let t, let s): "skew \(t) by \(s) s"
    case .crashDuringSync(let t, let c): "crash \(t) during its sync after \(c) commit(s)"
    case .settle: "settle"
    case .invariants: "invariants"
    }
  }

  // MARK: - Expectations

  func actual(_ e: Expectation, in world: ScenarioWorld, state: RunState) async throws -> String {
    func need<T>(_ value: T?, _ what: String) throws -> T {
      guard let value else { throw ScenarioFailure("no \(what) before this step") }
      return value
    }
    switch e.key {
    case "verdict": return try need(state.verdict, "verification").outcome.rawValue
    case "reasons":
      return
        "[\(try need(state.verdict, "verification").reasons.map(\.code).joined(separator: ", "))]"
    case "found": return "\(try need(state.lookup, "lookup").found)"
    case "status": return try need(state.lookup?.licence, "lookup of a cached licence").status.code
    case "points": return "\(try need(state.lookup?.points, "lookup of a cached licence").total)"
    case "cache-stale": return "\(try need(state.lookup, "lookup").cacheStale)"
    case "documents":
      return
        "[\(try need(state.stop, "record").documents.map(\.kind.rawValue).joined(separator: ", "))]"
    case "paper-licence": return "\(try need(state.stop, "record").paperLicenceRequired)"
    case "error": return state.error ?? "no error"
    case "outbox":
      guard case .map(let wanted) = e.value else { return "outbox takes {TERMINAL: depth}" }
      var actual: [String: Int] = [:]
      for id in wanted.keys { actual[id] = try world.terminal(id).store.outboxDepth() }
      return ExpectedValue.map(actual).description
    case "conflicts":
      let conflicts = try world.central().conflicts()
      if case .map(let wanted) = e.value {
        var actual: [String: Int] = [:]
        for kind in wanted.keys {
          actual[kind] = conflicts.filter { $0.kind.rawValue == kind }.count
        }
        return ExpectedValue.map(actual).description
      }
      return "\(conflicts.count)"
    case "deductions":
      let all = try world.central().deductions()
      if case .map(let wanted) = e.value {
        var actual: [String: Int] = [:]
        for kind in wanted.keys { actual[kind] = all.filter { $0.state.rawValue == kind }.count }
        return ExpectedValue.map(actual).description
      }
      return "\(all.count)"
    case "balance":
      guard case .map(let wanted) = e.value else { return "balance takes {LICENCE: yuan}" }
      let accounts = try BankStore.open(path: world.bankPath).accounts()
      var actual: [String: Int] = [:]
      for licence in wanted.keys {
        let account = world.fixtures.mandates.first { $0.licence.value == licence }?.account
        let balance = accounts.first { $0.number == account }?.balance.fen ?? -100
        actual[licence] = Int(balance / 100)
      }
      return ExpectedValue.map(actual).description
    case "reconcile":
      let result = try await world.central().reconcile(
        on: world.clock.now().chinaDate, bank: world.bank)
      return "\(result.differences.count)"
    case "central-status":
      let licence = try need(state.licence, "`licence:` naming the licence")
      return try world.central().dossier(try CitizenID(licence)).licence.status.code
    case "central-points":
      let licence = try need(state.licence, "`licence:` naming the licence")
      return "\(try world.central().dossier(try CitizenID(licence)).points.total)"
    case "decisions":
      let licence = try need(state.licence, "`licence:` naming the licence")
      return
        "\(try world.central().dossier(try CitizenID(licence)).decisions.filter { $0.state == .effective }.count)"
    default: return "unknown expectation"
    }
  }
}

extension CitizenID {
  /// The masked form of a number given as text (or the text when it is not a valid number).
  static func masked(_ text: String) -> String { (try? CitizenID(text))?.masked ?? text }
}
