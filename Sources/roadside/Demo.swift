import ArgumentParser
import Foundation
import RoadsideDomain
import RoadsideScenario
import RoadsideStorage

/// `roadside demo`: a curated story on the embedded defaults, told step by step.
struct Demo: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the demo on the embedded defaults in a temporary home.",
    discussion: """
      A story in one world — central, two officer terminals, a driver's phone, the bank — with
      narration: a clean check, a violation decided on the spot and its fine deducted through the
      driver's mandate, a terminal that works offline while central suspends a licence, and the
      conflict that surfaces when it reconnects. Every step is checked as a scenario would check
      it; the demo exits 0 only when the story held.
      """)

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Keep the home and print its path.") var keep = false

  func run() async throws {
    let start = try global.clock().now()
    let story = try ScenarioParser.parse(
      DemoStory.yaml.replacingOccurrences(of: "START", with: start.description),
      file: "the demo story")
    // Kept: the given --home, or with --keep a fresh folder; otherwise the runner's own
    // temporary home, removed afterwards.
    var home: URL?
    if global.home != nil {
      home = global.homeDirectory
    } else if keep {
      home = FileManager.default.temporaryDirectory.appendingPathComponent(
        "roadside-demo-\(UUID().uuidString)", isDirectory: true)
    }
    if let home, FileManager.default.fileExists(atPath: HomeLayout(home: home).centralStore.path) {
      throw CLIError(
        .cannotCreate,
        "a central store already exists in \(home.path); the demo builds its own world, so give it a new --home"
      )
    }
    print("== Roadside demo — \(start)")
    print(
      "A new world from the embedded defaults: the central store (240 drivers), the bank, two officer terminals synced with officers logged in, the drivers' phones."
    )
    let report = await ScenarioRunner(home: home).run(story)
    if let aborted = report.abortedBy { throw CLIError(.software, aborted) }
    for (step, result) in zip(story.steps, report.steps) {
      if let say = step.say {
        print("")
        print("== \(say)")
      }
      for line in result.outcome { print("  \(line)") }
      for expectation in step.expect where expectation.key != "licence" {
        let failed = result.failures.first { $0.key == expectation.key }
        print(
          failed.map { "  ✗ \($0.key): expected \($0.expected), was \($0.actual)" }
            ?? "  ✓ \(expectation.key) \(expectation.value)")
      }
      if let error = result.failures.first(where: { $0.key == "error" }) {
        print("  ✗ \(error.actual)")
      }
    }
    print("")
    print(
      report.passed
        ? "The story held: \(report.steps.count) steps, every check as expected (transcript \(report.transcriptHash.prefix(16)))."
        : "The story did not hold: \(report.failures.count) check(s) failed.")
    if let home {
      print("State kept in \(home.path); try: roadside central conflicts --home \(home.path)")
    } else {
      print("Temporary home removed. Run with --keep to explore it with the other commands.")
    }
    if !report.passed { throw ExitCode(1) }
  }
}

/// The demo's story: a scenario (Scenarios/README.md) with narration.
enum DemoStory {
  static let yaml = """
    name: The Roadside demo
    description: >
      A clean check, a violation with a decision and an auto-deduction, an offline terminal
      that records while central suspends the licence, and the conflict when it reconnects.
    world:
      start: START
      terminals:
        - id: T-BJ-0001
          officer: "010001"
        - id: T-BJ-0002
          officer: "010002"
    steps:
      - present: {terminal: T-BJ-0001, holder: "110114197811271869", vehicle: C2, nonce: "c4a1"}
        say: "A roadside check on 长安街: 魏英 shows her e-licence; T-BJ-0001 verifies it offline for her C2 car"
        expect: {verdict: VALID}
      - present: {terminal: T-BJ-0001, holder: "110114197811271869", vehicle: C2, nonce: "c4a1", replay: true}
        say: "Someone shows a screenshot of the same code"
        expect: {verdict: INVALID, reasons: [replay]}
      - record: {terminal: T-BJ-0001, licence: "110114197811271869", plate: 京AD00000, vehicle: C2, offences: ["0601", "0111"], place: 长安街建国门}
        say: "She ran a red light without her seat belt: two decisions on the spot, served together"
        expect: {documents: [decision, decision], paper-licence: false}
      - sync: T-BJ-0001
        say: "T-BJ-0001 syncs: central applies the decisions once and queues the deductions her bank mandate allows"
        expect: {licence: "110114197811271869", central-points: 7, deductions: {pending: 2}}
      - deduct: {}
        say: "Central asks the bank, keyed by the decision numbers; the ledgers agree"
        expect: {deductions: {settled: 2}, balance: {"110114197811271869": 2750}, reconcile: 0}
      - offline: T-BJ-0002
        say: "T-BJ-0002 patrols the 五环 with no network"
      - central: {suspend: "110102199505062472"}
        say: "Meanwhile the vehicle office suspends the licence of 110102********2472 (暂扣)"
      - advance: 15m
      - lookup: {terminal: T-BJ-0002, licence: "110102199505062472"}
        say: "T-BJ-0002 stops that driver; its cache, 15 minutes old, still says normal"
        expect: {status: A}
      - record: {terminal: T-BJ-0002, licence: "110102199505062472", plate: 京A00017, vehicle: C2, offences: ["0111"]}
        say: "No seat belt: 1 point, decided on the spot, offline"
        expect: {documents: [decision]}
      - online: T-BJ-0002
        say: "Back in coverage, T-BJ-0002 syncs"
      - sync: T-BJ-0002
        expect: {conflicts: {stale_status: 1}}
      - check: {}
        say: "Central reports the check that relied on a status it already knew was wrong; the unit follows up"
        expect: {licence: "110102199505062472", central-status: D, central-points: 11}
    """
}
