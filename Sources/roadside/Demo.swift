import ArgumentParser
import Foundation
import RoadsideDomain
import RoadsideScenario
import RoadsideScenarioLibrary
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
    // The story is the library's Scenarios/demo/the-demo.yaml, shipped in the binary's
    // resources and told from now.
    let text: String
    do {
      text = try ScenarioLibrary.demoStory()
    } catch let error as ScenarioLibrary.MissingResource {
      throw CLIError(.software, error.description)
    }
    let story = try ScenarioParser.parse(text, file: "Scenarios/demo/the-demo.yaml")
      .starting(at: start)
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
