public import Foundation
import RoadsideDomain
import RoadsideFixtures
public import RoadsideMutants

/// A failing run reduced to a schedule that still fails the same invariant.
public struct ShrunkRun: Sendable {
  /// The invariant the original run and the shrunk schedule both violate.
  public let invariant: String
  /// Steps in the original day (the settling and the check not counted).
  public let originalSteps: Int
  /// The shrunk schedule, each step with the error it met when replayed, if any.
  public let steps: [ScheduledStep]
  /// What the shrunk schedule violates.
  public let violations: [InvariantViolation]
  /// Replays tried.
  public let replays: Int
  /// False when the replay budget ran out before no single step could be removed.
  public let minimal: Bool
}

extension Simulation {
  /// Shrinks a failing run by delta debugging over its recorded schedule (Zeller's ddmin,
  /// removing complements): chunks of steps are taken out, halving the chunk size whenever
  /// no chunk can go, as long as the replayed day still violates the invariant the run
  /// first violated; it ends with every single step tried, so no one step of the result
  /// can be removed (1-minimal), unless `budget` replays run out first. Each replay builds
  /// the world afresh (from the template when there is one) and ends with the settling and
  /// the invariants, as every simulated day does. Nil when the run holds.
  public func shrink(
    _ failed: RecordedDay, budget: Int = 2_000,
    progress: (Int, Int) -> Void = { _, _ in }
  ) async throws -> ShrunkRun? {
    guard let target = failed.report.violations.first?.invariant else { return nil }
    var replays = 0
    func fails(_ candidate: [Action]) async -> Bool {
      replays += 1
      guard let replayed = try? await record(schedule: candidate).report else { return false }
      return replayed.violations.contains { $0.invariant == target }
    }
    var current = failed.schedule.map(\.action)
    var granularity = 2
    var minimal = false
    while replays < budget {
      if current.count < 2 {
        // Even the last step may be unneeded (a bug that shows in any world).
        if current.count == 1, await fails([]) { current = [] }
        minimal = true
        break
      }
      let size = (current.count + granularity - 1) / granularity
      var reduced = false
      var chunk = 0
      while chunk * size < current.count, replays < budget {
        let low = chunk * size
        let high = min(low + size, current.count)
        let candidate = Array(current[..<low] + current[high...])
        if await fails(candidate) {
          current = candidate
          reduced = true
          progress(current.count, replays)
          // The same place again: the next chunk has moved into it.
        } else {
          chunk += 1
        }
      }
      if !reduced {
        if size == 1 {
          minimal = true
          break
        }
        granularity = min(granularity * 2, current.count)
      } else {
        granularity = max(granularity - 1, 2)
      }
    }
    let replayed = try await record(schedule: current)
    return ShrunkRun(
      invariant: target, originalSteps: failed.schedule.count, steps: replayed.schedule,
      violations: replayed.report.violations, replays: replays, minimal: minimal)
  }

  /// The shrunk run as a scenario file that `roadside scenario run` fails the same way:
  /// the simulation's world (its terminals, its numbering, the seed it pins), the shrunk
  /// steps — each refused one expecting its refusal — then `settle` and `invariants`.
  /// A world generated for a fleet is not a file beside the scenario, so only runs on the
  /// shipped fixtures are saved (``savesAsScenario(terminals:licences:onServer:)``).
  public func scenarioYAML(_ shrunk: ShrunkRun, file: String) -> String {
    var lines: [String] = []
    let command = runCommand(file)
    lines.append(
      "# Shrunk by `\(Simulation.replay(seed: seed, terminals: terminals, licences: licences, hours: hours, faults: SimulationFault.allCases.filter { faults.contains($0) }, mutant: mutant)) --save-scenario \(file)`"
    )
    lines.append(
      "# from \(shrunk.originalSteps) steps to \(shrunk.steps.count) in \(shrunk.replays) replays.")
    lines.append("# It fails the invariant \"\(shrunk.invariant)\": \(command)")
    lines.append("name: \(yamlQuoted("Seed \(seed) shrunk: \(shrunk.invariant)"))")
    lines.append("description: >")
    lines.append(
      "  A simulated day of \(terminals) terminal(s) reduced by delta debugging to the steps that still break \"\(shrunk.invariant)\"\(mutant.map { " with the mutant \($0.rawValue) compiled in" } ?? ""). The seed is pinned: the network's losses, duplicates and delays on each link are drawn from it, so another seed is another day."
    )
    lines.append("seed: \(seed)")
    lines.append("world:")
    lines.append("  start: \(Simulation.start.description)")
    lines.append("  numbers-per-range: \(Simulation.numbersPerRange)")
    lines.append("  terminals:")
    for index in 0..<terminals {
      let spec = Simulation.spec(index)
      lines.append("    - {id: \(spec.id), officer: \(yamlQuoted(spec.officer))}")
    }
    lines.append("steps:")
    for step in shrunk.steps {
      lines.append("  - " + yamlStep(step.action))
      if let error = step.error {
        lines.append("    expect: {error: \(yamlQuoted(stablePart(of: error)))}")
      }
    }
    lines.append("  - settle: {}")
    lines.append("  - invariants: {}")
    return lines.joined(separator: "\n") + "\n"
  }

  /// Whether a shrunk run can be saved as a scenario file: only a world of the shipped
  /// fixtures, with central on SQLite, is one a scenario file can name.
  public static func savesAsScenario(terminals: Int, licences: Int?, onServer: Bool) -> Bool {
    population(terminals: terminals, licences: licences) == nil && !onServer
  }

  /// `roadside scenario run FILE`, with this run's mutant.
  func runCommand(_ file: String) -> String {
    "roadside scenario run \(file)\(mutant.map { " --mutant \($0.rawValue)" } ?? "")"
  }

  /// Writes the shrunk run to `file` (``scenarioYAML(_:file:)``) and runs that file as
  /// `roadside scenario run` would, with this run's mutant: it must fail with the shrunk
  /// run's invariant and nothing else.
  public func saveScenario(_ shrunk: ShrunkRun, to file: String) async throws -> SavedScenario {
    try Data(scenarioYAML(shrunk, file: file).utf8).write(to: URL(fileURLWithPath: file))
    let report = await ScenarioRunner(mutant: mutant).run(try ScenarioParser.parse(file: file))
    let others = report.failures.filter { $0.key != "invariants" }
    let same = report.failures.contains {
      $0.key == "invariants" && $0.actual.hasPrefix("\(shrunk.invariant):")
    }
    let mismatch =
      same && others.isEmpty
      ? nil
      : report.abortedBy
        ?? others.first.map {
          "line \($0.line): \($0.key) expected \($0.expected), got \($0.actual)"
        }
        ?? "the invariant \(shrunk.invariant) held"
    return SavedScenario(file: file, command: runCommand(file), mismatch: mismatch)
  }
}

/// A shrunk run saved as a scenario file, and whether the file fails as the run did.
public struct SavedScenario: Sendable {
  public let file: String
  /// The command that runs it (with the mutant, if any).
  public let command: String
  /// Nil when `scenario run` fails the file with the run's invariant and nothing else;
  /// otherwise what differed.
  public let mismatch: String?
}

/// The part of an error message a scenario expects: up to any path (a temporary home's
/// differs each run), at most 80 characters.
func stablePart(of message: String) -> String {
  var text = message
  if let slash = text.firstIndex(of: "/") { text = String(text[..<slash]) }
  text = text.trimmingCharacters(in: .whitespaces)
  return String(text.prefix(80))
}

/// A YAML double-quoted scalar: a JSON string literal is one.
func yamlQuoted(_ text: String) -> String { jsonQuoted(text) }

/// One step as the scenario parser reads it (Scenarios/README.md).
func yamlStep(_ action: Action) -> String {
  func seconds(_ value: Int64) -> String { "\(value)s" }
  func signed(_ value: Int64) -> String { value < 0 ? "\"-\(-value)s\"" : "\"+\(value)s\"" }
  func list(_ items: [String]) -> String { "[\(items.joined(separator: ", "))]" }
  switch action {
  case .sync(let t, let mayFail):
    return mayFail ? "sync: {terminal: \(t), may-fail: true}" : "sync: \(t)"
  case .offline(let ids): return "offline: \(list(ids))"
  case .online(let ids): return "online: \(list(ids))"
  case .link(let t, let f):
    var fields = ["terminal: \(t)"]
    if f.dropRequests > 0 { fields.append("drop-requests: \(f.dropRequests)") }
    if f.dropResponses > 0 { fields.append("drop-responses: \(f.dropResponses)") }
    if f.duplicate > 0 { fields.append("duplicate: \(f.duplicate)") }
    if f.reorder > 0 { fields.append("reorder: \(f.reorder)") }
    if f.delaySeconds > 0 { fields.append("delay: \(seconds(f.delaySeconds))") }
    return "link: {\(fields.joined(separator: ", "))}"
  case .advance(let s): return "advance: \(seconds(s))"
  case .crash(let t): return "crash: \(t)"
  case .crashDuringSync(let t, let c):
    return "crash-during-sync: {terminal: \(t), after-commits: \(c)}"
  case .central(let change):
    switch change {
    case .suspend(let n): return "central: {suspend: \(yamlQuoted(n))}"
    case .withhold(let n): return "central: {withhold: \(yamlQuoted(n))}"
    case .reinstate(let n): return "central: {reinstate: \(yamlQuoted(n))}"
    case .revoke(let n): return "central: {revoke: \(yamlQuoted(n))}"
    case .renew(let n): return "central: {renew: \(yamlQuoted(n))}"
    case .changeClass(let n, let to):
      return "central: {change-class: {licence: \(yamlQuoted(n)), to: \(yamlQuoted(to))}}"
    case .rotateKey(let k): return "central: {rotate-key: \(yamlQuoted(k))}"
    case .revokeKey(let k): return "central: {revoke-key: \(yamlQuoted(k))}"
    case .pay(let d): return "central: {pay: \(yamlQuoted(d))}"
    case .apply(let n): return "central: {apply: \(yamlQuoted(n))}"
    case .revokeTerminal(let t): return "central: {revoke-terminal: \(t)}"
    case .education(let n, let completed, let passed):
      return
        "central: {education: {licence: \(yamlQuoted(n)), completed: \(completed), exam: \(passed ? "passed" : "failed")}}"
    }
  case .present(let p):
    var fields = ["terminal: \(p.terminal)", "holder: \(yamlQuoted(p.holder))"]
    if let v = p.vehicle { fields.append("vehicle: \(v)") }
    if let n = p.nonce { fields.append("nonce: \(yamlQuoted(n))") }
    if let n = p.terminalNonce { fields.append("terminal-nonce: \(yamlQuoted(n))") }
    if let d = p.disclose { fields.append("disclose: \(list(d))") }
    fields.append("delay: \(seconds(p.delaySeconds))")
    if p.replay { fields.append("replay: true") }
    if let s = p.stalenessSeconds { fields.append("staleness: \(seconds(s))") }
    if p.phoneClockSeconds != 0 { fields.append("phone-clock: \(signed(p.phoneClockSeconds))") }
    return "present: {\(fields.joined(separator: ", "))}"
  case .lookup(let t, let l): return "lookup: {terminal: \(t), licence: \(yamlQuoted(l))}"
  case .record(let s):
    var fields = [
      "terminal: \(s.terminal)", "licence: \(yamlQuoted(s.licence))",
      "plate: \(yamlQuoted(s.plate))",
      "vehicle: \(s.vehicle)", "offences: [\(s.offences.map(yamlQuoted).joined(separator: ", "))]",
    ]
    if let fines = s.fines {
      fields.append("fines: [\(fines.map(String.init).joined(separator: ", "))]")
    }
    fields.append("place: \(yamlQuoted(s.place))")
    if s.refusedToSign { fields.append("refused-to-sign: true") }
    return "record: {\(fields.joined(separator: ", "))}"
  case .void(let t, let d, let reason):
    return "void: {terminal: \(t), document: \(yamlQuoted(d)), reason: \(yamlQuoted(reason))}"
  case .bankFault(let kind, let after, let times):
    return "bank-fault: {kind: \(kind), after: \(after), times: \(times)}"
  case .deduct: return "deduct: {}"
  case .check: return "check: {}"
  case .login(let t): return "login: \(t)"
  case .skew(let t, let s): return "skew: {terminal: \(t), by: \(signed(s))}"
  case .decide(let d, let fine, let measure):
    var fields = ["document: \(yamlQuoted(d))"]
    if let fine { fields.append("fine: \(fine)") }
    if let measure {
      let text =
        switch measure {
        case .none: "none"
        case .revoke: "revoke"
        case .suspend(months: let months): "suspend:\(months)"
        }
      fields.append("measure: \(text)")
    }
    return "decide: {\(fields.joined(separator: ", "))}"
  case .settle: return "settle: {}"
  case .invariants: return "invariants: {}"
  }
}
