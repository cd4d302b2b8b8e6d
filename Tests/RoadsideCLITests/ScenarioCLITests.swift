import Foundation
import Testing

let libraryFolder = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("Scenarios")

@Suite struct ScenarioCLITests {
  @Test func runReportsJUnitAndFailsOnABrokenExpectation() throws {
    let dir = newHome()
    let good = libraryFolder.appendingPathComponent("checks/valid-licence.yaml").path
    let bad = dir.appendingPathComponent("bad.yaml")
    try String(contentsOfFile: good, encoding: .utf8)
      .replacingOccurrences(
        of: "expect: {verdict: VALID, reasons: []}", with: "expect: {verdict: INVALID}"
      )
      .write(to: bad, atomically: true, encoding: .utf8)
    let junit = dir.appendingPathComponent("report.xml")
    let run = try roadside(["scenario", "run", good, bad.path, "--junit", junit.path])
    #expect(run.status == 1)
    #expect(
      run.stdout.hasPrefix(
        "PASS \(good) — A valid e-licence at a roadside check (seed 1, transcript "))
    #expect(
      run.stdout.contains(
        "  \(bad.path):13: present 110114********1869 to T-BJ-0001: verdict expected INVALID, was VALID\n"
      ))
    #expect(run.stdout.hasSuffix("1 of 2 scenario(s) passed\n"))
    let xml = try String(contentsOf: junit, encoding: .utf8)
    #expect(xml.contains("<testsuite name=\"roadside scenarios\" tests=\"2\" failures=\"1\""))
    #expect(xml.contains("<failure message=\"line 13: verdict expected INVALID, was VALID\"/>"))

    let same = try roadside(["scenario", "run", good, "--json"])
    let again = try roadside(["scenario", "run", good, "--json"])
    #expect(same.status == 0)
    let hash = { (text: String) in
      (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])?.first?[
        "transcriptHash"] as? String
    }
    #expect(hash(same.stdout) != nil && hash(same.stdout) == hash(again.stdout))
  }

  /// The same seeds give the same output in separate processes (Swift randomises hashing per
  /// process: nothing the workload picks may depend on a dictionary's order), and a kept
  /// home holds the run's files.
  @Test func simulateRepeatsAcrossProcessesAndKeepsItsFiles() throws {
    let arguments = ["simulate", "--seed", "1", "--seeds", "12", "--hours", "4"]
    let first = try roadside(arguments)
    let second = try roadside(arguments)
    #expect(first.status == 0, "\(first.stdout)")
    #expect(first.stdout.contains("\n12 of 12 seed(s) held; "))
    #expect(first.stdout.hasSuffix(" 0 violations\n"))
    #expect(first.stdout == second.stdout)
    #expect(first.stdout.contains("\ncoverage: faults "))
    #expect(first.stdout.contains("\n  sometimes goals: "))
    let json = try roadside(["simulate", "--seed", "1", "--seeds", "2", "--hours", "2", "--json"])
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(Set(object.keys) == ["reports", "coverage", "unreached"])
    #expect((object["reports"] as? [Any])?.count == 2)

    // The same seeds in five processes at once (12 seeds do not split evenly over 5), and
    // with every world assembled on disk: the same reports, printed in seed order.
    let parallel = try roadside(arguments + ["--jobs", "5"])
    #expect(parallel.status == 0, "\(parallel.stderr)")
    #expect(parallel.stdout == first.stdout)
    let disk = try roadside(["simulate", "--seed", "1", "--seeds", "3", "--hours", "4"])
    let onDisk = try roadside(
      ["simulate", "--seed", "1", "--seeds", "3", "--hours", "4", "--files", "disk"])
    #expect(onDisk.status == 0)
    #expect(onDisk.stdout == disk.stdout)
    #expect(
      first.stdout.hasPrefix(disk.stdout.split(separator: "\n")[0...2].joined(separator: "\n")))

    let kept = newHome().appendingPathComponent("seed-5")
    let run = try roadside(["simulate", "--seed", "5", "--hours", "2", "--keep", kept.path])
    #expect(run.status == 0)
    #expect(run.stdout.hasPrefix("seed 5: "))
    #expect(
      FileManager.default.fileExists(
        atPath: kept.appendingPathComponent("central/central.sqlite").path))
  }

  @Test(arguments: [
    (["--terminals", "1001"], "--terminals must be 1 to 1000"),
    (["--licences", "100"], "--licences must be 240 to 1000000"),
    (["--hours", "0"], "--hours must be 1 to 240"),
    (["--seeds", "2", "--keep", "/tmp/never"], "--keep takes one seed; drop --seeds"),
    (["--jobs", "2", "--keep", "/tmp/never"], "--keep runs in this process; drop --jobs"),
    (["--jobs", "0"], "--jobs must be 1 to 64"),
    (
      ["--seed", "18446744073709551615", "--seeds", "2"],
      "--seed 18446744073709551615 with --seeds 2 runs past the largest seed"
    ),
    (["--files", "tape"], "--files must be memory or disk, not \"tape\""),
    (
      ["--mutant", "off-by-one"],
      "unknown mutant \"off-by-one\"; mutants are push-applied-twice, duplicate-check-skipped, change-not-logged, cursor-outside-transaction, deduction-new-key, void-forgets-refund, conflict-not-recorded, points-double-counted, clock-skew-sign, status-not-cached, counter-payment-keeps-deduction (--list-mutants says what each breaks)"
    ),
    (
      ["--save-scenario", "/tmp/never.yaml", "--no-shrink"],
      "--save-scenario saves the shrunk run; drop --no-shrink"
    ),
    (["--save-scenario", "/tmp"], "/tmp already exists; --save-scenario writes a new file"),
    (
      ["--save-scenario", "/tmp/never.yaml", "--terminals", "10"],
      "--save-scenario needs the shipped fixtures' world (at most 6 terminals, no --licences, no --store): a generated world is not a file beside the scenario"
    ),
    (["--shrink-budget", "0"], "--shrink-budget must be at least 1"),
    (["--seeds", "2", "--timeline", "/tmp/never.svg"], "--timeline draws one seed; drop --seeds"),
    (
      ["--faults", "drop,flood"],
      "unknown fault \"flood\"; faults are partition, drop, duplicate, reorder, delay, crash, bank, skew, region or none"
    ),
  ])
  func simulateRefusesBadOptions(_ arguments: [String], _ message: String) throws {
    // (The mutant list is the same in `scenario run`'s message.)
    let run = try roadside(["simulate"] + arguments)
    #expect(run.status == 64)
    #expect(run.stderr == "error: \(message) (see 'roadside help')\n")
    #expect(run.stdout == "")
  }

  /// A mutant's failing day is shrunk and saved; `scenario run` fails the file under the
  /// same mutant and passes it without (the regression test holds once the bug is gone).
  @Test func aMutantIsCaughtShrunkAndSavedAsAScenario() throws {
    let list = try roadside(["simulate", "--list-mutants"])
    #expect(list.status == 0)
    #expect(list.stdout.split(separator: "\n").count == 11)
    #expect(
      list.stdout.hasPrefix(
        "push-applied-twice               central   a record already stored is applied again, not acknowledged\n"
      ))
    let file = newHome().appendingPathComponent("shrunk.yaml").path
    let run = try roadside([
      "simulate", "--seed", "1", "--hours", "4", "--mutant", "status-not-cached",
      "--save-scenario", file,
    ])
    #expect(run.status == 1, "\(run.stderr)")
    #expect(
      run.stdout.contains("  caches converge: T-BJ-0001: licences: 240 cached, 240 at central"))
    #expect(
      run.stdout.contains(
        "  replay: roadside simulate --seed 1 --terminals 3 --hours 4 --faults partition,drop,duplicate,reorder,delay,crash,bank,skew,region --mutant status-not-cached\n"
      ))
    #expect(run.stdout.contains("\nshrunk seed 1 from "))
    #expect(
      run.stdout.contains(
        " replays (no single step can go); it still breaks \"caches converge\":\n"))
    #expect(
      run.stdout.hasSuffix(
        "\nsaved \(file); it fails the same way: roadside scenario run \(file) --mutant status-not-cached\n"
      ))
    let failing = try roadside(["scenario", "run", file, "--mutant", "status-not-cached"])
    #expect(failing.status == 1)
    #expect(
      failing.stdout.contains(": invariants: invariants expected hold, was caches converge: "))
    let passing = try roadside(["scenario", "run", file])
    #expect(passing.status == 0, "\(passing.stdout)")
    // Either run drawn: the scenario's steps, the seed's day with its violation.
    let drawing = URL(fileURLWithPath: file).deletingLastPathComponent()
    let scenarioSVG = drawing.appendingPathComponent("scenario.svg").path
    let drawn = try roadside([
      "scenario", "run", file, "--mutant", "status-not-cached", "--timeline", scenarioSVG,
    ])
    #expect(drawn.status == 1)
    let svg = try String(contentsOfFile: scenarioSVG, encoding: .utf8)
    #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" "))
    #expect(svg.contains("class=\"violation\""))
    let daySVG = drawing.appendingPathComponent("day.svg").path
    let day = try roadside(["simulate", "--seed", "2", "--hours", "2", "--timeline", daySVG])
    #expect(day.status == 0)
    #expect(try String(contentsOfFile: daySVG, encoding: .utf8).contains("class=\"settle\""))
    let bank = libraryFolder.appendingPathComponent("bank").path
    let two = try roadside(["scenario", "run", bank, "--timeline", daySVG])
    #expect(two.status == 64)
    #expect(two.stderr.hasPrefix("error: --timeline draws one scenario; \(bank) holds "))
    let again = try roadside([
      "simulate", "--seed", "1", "--mutant", "status-not-cached", "--save-scenario", file,
    ])
    #expect(again.status == 64)
    #expect(
      again.stderr
        == "error: \(file) already exists; --save-scenario writes a new file (see 'roadside help')\n"
    )
    let unknown = try roadside(["scenario", "run", file, "--mutant", "nope"])
    #expect(unknown.status == 64)
    #expect(
      unknown.stderr.hasPrefix("error: unknown mutant \"nope\"; mutants are push-applied-twice, "))
  }

  @Test func invalidFilesAndPathsAreNamed() throws {
    let dir = newHome()
    let file = dir.appendingPathComponent("typo.yaml")
    try """
    name: typo
    description: a scenario with a misspelt field
    world:
      start: 2026-11-23T10:00:00+08:00
      terminals:
        - id: T-BJ-0001
    steps:
      - sync: T-BJ-0001
        expct: {outbox: {T-BJ-0001: 0}}
    """.write(to: file, atomically: true, encoding: .utf8)
    let run = try roadside(["scenario", "run", file.path])
    #expect(run.status == 65)
    #expect(
      run.stderr
        == "error: \(file.path):9: unknown field \"expct\" in a step; expected sync, offline, online, partition, link, advance, crash, central, present, lookup, record, void, bank-fault, deduct, check, login, skew, decide, crash-during-sync, settle, invariants, expect, ask, say\n"
    )
    let missing = try roadside(["scenario", "run", dir.appendingPathComponent("nope.yaml").path])
    #expect(missing.status == 66)
    #expect(missing.stderr == "error: no scenario file or folder at \(dir.path)/nope.yaml\n")
  }

  @Test func aDrillScoresTheAnswersFile() throws {
    let drill = libraryFolder.appendingPathComponent("drills/night-drunk-driver.yaml").path
    let model = try roadside([
      "drill", drill, "--answers", drill.replacingOccurrences(of: ".yaml", with: ".answers"),
    ])
    #expect(model.status == 0, "\(model.stderr)")
    #expect(model.stdout.hasSuffix("Score: 4 of 4\n"))
    let dir = newHome()
    let answers = dir.appendingPathComponent("wrong.answers")
    try "- {verdict: valid}\n- {procedure: simple, paper-licence: no, offences: [\"1201\"]}\n"
      .write(to: answers, atomically: true, encoding: .utf8)
    let wrong = try roadside(["drill", drill, "--answers", answers.path])
    #expect(wrong.status == 1)
    #expect(wrong.stdout.contains("  line 18 paper-licence: WRONG (you: no; expected: yes)\n"))
    #expect(wrong.stdout.hasSuffix("Score: 2 of 4\n"))
    let notADrill = try roadside([
      "drill", libraryFolder.appendingPathComponent("checks/valid-licence.yaml").path,
    ])
    #expect(notADrill.status == 65)
    #expect(
      notADrill.stderr.hasSuffix(
        "has no ask: steps; it is a scenario, not a drill (run it with 'roadside scenario run')\n"))
  }
}
