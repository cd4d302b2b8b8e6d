import Foundation
public import RoadsideDomain
import Yams

/// Why a scenario file cannot be run: the file, the line and what was expected.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
  public let file: String
  public let line: Int
  public let message: String

  public init(file: String, line: Int, _ message: String) {
    self.file = file
    self.line = line
    self.message = message
  }

  public var description: String { "\(file):\(line): \(message)" }
}

/// A parsed scenario: the world it builds and its steps (Scenarios/README.md).
public struct Scenario: Sendable {
  public let file: String
  public let name: String
  public let description: String
  public let seed: UInt64
  public let start: Timestamp
  public let terminals: [TerminalSpec]
  public let numbersPerRange: Int
  /// A fixture directory (nil: the shipped default set).
  public let fixtures: String?
  /// Records written in the scenario, added to the fixture set: file name, JSON, line.
  public let records: [InlineRecord]
  /// Bank balances in yuan, by the licence whose mandate names the account.
  public let balances: [String: Int]
  public let steps: [Step]
}

extension Scenario {
  /// The same scenario started at `start` (the demo tells its story at the current time).
  public func starting(at start: Timestamp) -> Scenario {
    Scenario(
      file: file, name: name, description: description, seed: seed, start: start,
      terminals: terminals, numbersPerRange: numbersPerRange, fixtures: fixtures,
      records: records, balances: balances, steps: steps)
  }
}

/// A fixture record written inline in a scenario (`world.records`).
public struct InlineRecord: Sendable, Equatable {
  /// `licences.jsonl`, `vehicles.jsonl`, …
  public let file: String
  /// The record as one line of JSON.
  public let json: String
  public let line: Int
}

public struct TerminalSpec: Sendable, Equatable {
  public let id: String
  public let officer: String
}

/// One step: an action, optionally a trainee prompt, and what must hold afterwards.
public struct Step: Sendable {
  public let line: Int
  public let action: Action
  public let expect: [Expectation]
  /// A drill asks the trainee here (see `roadside drill`).
  public let ask: DrillQuestion?
  /// Narration for a story (the demo prints it before the step).
  public let say: String?
}

public enum Action: Sendable {
  /// Push, then pull. `mayFail`: the link may defeat every retry; a network failure is
  /// then part of the transcript, not an error (anything else still is).
  case sync(terminal: String, mayFail: Bool)
  case offline([String])
  case online([String])
  case link(terminal: String, LinkFaults)
  case advance(seconds: Int64)
  case crash(String)
  case central(CentralAction)
  case present(Presentation)
  case lookup(terminal: String, licence: String)
  case record(Stop)
  case void(terminal: String, document: String, reason: String)
  case bankFault(kind: String, after: Int, times: Int)
  case deduct
  case check
  case login(terminal: String)
  case skew(terminal: String, seconds: Int64)
  /// The terminal loses power in the middle of a sync: the first `afterCommits` commits of
  /// its file go through, every later one dies with it, and it restarts from its file.
  case crashDuringSync(terminal: String, afterCommits: Int)
  /// The end of a simulated day: every link healed, every terminal clock set right, the
  /// bank's faults cleared; every terminal syncs, round after round, until the world has
  /// converged (at most 6 rounds; the property allows 3), deductions run until none is open,
  /// and every terminal pulls once more.
  case settle
  /// The invariants `roadside simulate` checks, on the world's files: each one violated
  /// fails the step.
  case invariants
  /// The unit decides a processing notice (公安部令第157号 §48–§51).
  case decide(document: String, fineYuan: Int?, measure: LicenceMeasure?)
}

public enum CentralAction: Sendable {
  case suspend(String)
  case withhold(String)
  case reinstate(String)
  case revoke(String)
  case renew(String)
  case changeClass(String, to: String)
  case rotateKey(String)
  case revokeKey(String)
  case pay(String)
  case apply(String)
  case revokeTerminal(String)
  /// Full-score education's exam (公安部令第163号 §17–§23): licence, day, passed.
  case education(String, completed: String, passed: Bool)
}

public struct LinkFaults: Sendable, Equatable {
  public var dropRequests = 0.0
  public var dropResponses = 0.0
  public var duplicate = 0.0
  /// A push held back and delivered after the next one (its answer is lost meanwhile).
  public var reorder = 0.0
  public var delaySeconds: Int64 = 0
}

public struct Presentation: Sendable {
  public let terminal: String
  public let holder: String
  public let vehicle: String?
  public let nonce: String?
  /// The terminal's challenge when it differs from the one the phone signs.
  public let terminalNonce: String?
  public let disclose: [String]?
  /// Seconds between the phone's display and the terminal's check.
  public let delaySeconds: Int64
  /// Present the previous code again instead of a fresh one.
  public let replay: Bool
  /// The terminal's staleness budget for this check (default 24 h).
  public let stalenessSeconds: Int64?
  /// How far the phone's clock runs ahead of the world's (seconds; negative: behind).
  public let phoneClockSeconds: Int64
}

public struct Stop: Sendable {
  public let terminal: String
  public let licence: String
  public let plate: String
  public let vehicle: String
  public let offences: [String]
  public let fines: [Int]?
  public let place: String
  public let refusedToSign: Bool
}

/// One expectation, checked against the world after its step.
public struct Expectation: Sendable {
  public let line: Int
  public let key: String
  public let value: ExpectedValue
}

public enum ExpectedValue: Sendable, Equatable, CustomStringConvertible {
  case text(String)
  case number(Int)
  case flag(Bool)
  case list([String])
  case map([String: Int])

  public var description: String {
    switch self {
    case .text(let text): text
    case .number(let number): "\(number)"
    case .flag(let flag): "\(flag)"
    case .list(let list): "[\(list.joined(separator: ", "))]"
    case .map(let map):
      "{" + map.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        + "}"
    }
  }
}

/// What a drill asks the trainee at a step, and the answer that scores.
public struct DrillQuestion: Sendable {
  public let prompt: String
  /// Field → expected answer (`verdict`, `procedure`, `paper-licence`, `offences`).
  public let answers: [String: String]
  public let explanation: String
}

/// A drill's answers file: a list with one mapping (field → answer) per question, in order.
public enum DrillAnswers {
  public static func load(file: String) throws -> [[String: String]] {
    let text: String
    do {
      text = try String(contentsOfFile: file, encoding: .utf8)
    } catch {
      throw ScenarioError(
        file: file, line: 0, "cannot read the answers: \(error.localizedDescription)")
    }
    let r = Reader(file: file)
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch let error as YamlError {
      throw ScenarioError(
        file: file, line: ScenarioParser.line(of: error), "not valid YAML: \(error)")
    }
    guard let root else { return [] }
    return try r.sequence(root, "the answers").map { item in
      Dictionary(
        uniqueKeysWithValues: try r.pairs(item, "an answer").map { key, value in
          (key.0, try r.strings(value, key.0).joined(separator: ","))
        })
    }
  }
}

// MARK: - Parsing

/// Reads scenario files strictly: every mapping key is known, every value of its type.
public enum ScenarioParser {
  public static func parse(file: String) throws -> Scenario {
    let text: String
    do {
      text = try String(contentsOfFile: file, encoding: .utf8)
    } catch {
      throw ScenarioError(
        file: file, line: 0, "cannot read the file: \(error.localizedDescription)")
    }
    return try parse(text, file: file)
  }

  public static func parse(_ text: String, file: String) throws -> Scenario {
    let root: Node
    do {
      guard let node = try Yams.compose(yaml: text) else {
        throw ScenarioError(file: file, line: 1, "the file is empty; expected a scenario mapping")
      }
      root = node
    } catch let error as ScenarioError {
      throw error
    } catch let error as YamlError {
      throw ScenarioError(file: file, line: line(of: error), "not valid YAML: \(error)")
    }
    let r = Reader(file: file)
    let top = try r.mapping(
      root, "the scenario", required: ["name", "description", "world", "steps"],
      optional: ["seed"])
    let world = try r.mapping(
      top["world"]!, "world", required: ["start", "terminals"],
      optional: ["fixtures", "numbers-per-range", "balances", "records"])
    var fixtures: String?
    if let node = world["fixtures"] {
      let name = try r.string(node, "world.fixtures")
      if name != "default" {
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent()
          .appendingPathComponent(name).path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
          isDirectory.boolValue
        else {
          throw r.error(
            node,
            "world.fixtures is `default` or a fixture directory beside the scenario; \(directory) is not one"
          )
        }
        fixtures = directory
      }
    }
    let startText = try r.string(world["start"]!, "world.start")
    guard let start = Timestamp(iso: startText) else {
      throw r.error(world["start"]!, "world.start must be an ISO 8601 time, not \"\(startText)\"")
    }
    let terminals = try r.sequence(world["terminals"]!, "world.terminals").map { node in
      let t = try r.mapping(node, "a terminal", required: ["id"], optional: ["officer"])
      return TerminalSpec(
        id: try r.string(t["id"]!, "terminal id"),
        officer: try t["officer"].map { try r.string($0, "officer") } ?? "010001")
    }
    let steps = try r.sequence(top["steps"]!, "steps").map { try step($0, r) }
    return Scenario(
      file: file, name: try r.string(top["name"]!, "name"),
      description: try r.string(top["description"]!, "description"),
      seed: try top["seed"].map { try r.seed($0) } ?? 1, start: start,
      terminals: terminals,
      numbersPerRange: try world["numbers-per-range"].map { try r.int($0, "numbers-per-range") }
        ?? NumberRange.standardSize,
      fixtures: fixtures,
      records: try world["records"].map { try inlineRecords($0, r) } ?? [],
      balances: try world["balances"].map { node in
        Dictionary(
          uniqueKeysWithValues: try r.pairs(node, "world.balances").map {
            ($0.0.0, try r.int($0.1, "a balance in yuan"))
          })
      } ?? [:],
      steps: steps)
  }

  static let actions = [
    "sync", "offline", "online", "partition", "link", "advance", "crash", "central", "present",
    "lookup", "record", "void", "bank-fault", "deduct", "check", "login", "skew", "decide",
    "crash-during-sync", "settle", "invariants",
  ]

  static let recordFiles = [
    "licences", "vehicles", "officers", "terminals", "mandates", "decisions", "calendar",
  ]

  /// `records: {licences: [{…}, …], vehicles: […], …}`: each record as its JSON line, with
  /// the line it came from. The fixture loader checks them, field by field, with the rest.
  static func inlineRecords(_ node: Node, _ r: Reader) throws -> [InlineRecord] {
    let groups = try r.mapping(node, "world.records", required: [], optional: recordFiles)
    var result: [InlineRecord] = []
    for name in recordFiles {
      guard let list = groups[name] else { continue }
      for item in try r.sequence(list, "world.records.\(name)") {
        guard item.mapping != nil else {
          throw r.error(item, "each of world.records.\(name) is a mapping of a record's fields")
        }
        let data = try JSONSerialization.data(
          withJSONObject: try jsonValue(item, r), options: [.sortedKeys, .withoutEscapingSlashes])
        result.append(
          InlineRecord(
            file: "\(name).jsonl", json: String(decoding: data, as: UTF8.self), line: r.line(item)))
      }
    }
    return result
  }

  /// A YAML node as a JSON value: quoted scalars are text; plain ones are true, false, null,
  /// numbers or text, as YAML reads them.
  static func jsonValue(_ node: Node, _ r: Reader) throws -> Any {
    switch node {
    case .scalar(let scalar):
      if scalar.style != .plain { return scalar.string }
      if let bool = node.bool, ["true", "false"].contains(scalar.string) { return bool }
      if scalar.string == "null" || scalar.string == "~" { return NSNull() }
      if let int = node.int { return int }
      return scalar.string
    case .sequence(let sequence): return try sequence.map { try jsonValue($0, r) }
    case .mapping:
      var object: [String: Any] = [:]
      for ((name, _), value) in try r.pairs(node, "a record") {
        object[name] = try jsonValue(value, r)
      }
      return object
    case .alias: throw r.error(node, "aliases are not allowed in records")
    }
  }

  static func step(_ node: Node, _ r: Reader) throws -> Step {
    let m = try r.mapping(
      node, "a step", required: [], optional: actions + ["expect", "ask", "say"])
    let present = actions.filter { m[$0] != nil }
    guard present.count == 1, let name = present.first, let value = m[name] else {
      throw r.error(
        node,
        present.isEmpty
          ? "a step needs one action: \(actions.joined(separator: ", "))"
          : "a step has one action, not \(present.joined(separator: " and "))")
    }
    let action: Action
    switch name {
    case "sync":
      if case .mapping = value {
        let m = try r.mapping(value, "sync", required: ["terminal"], optional: ["may-fail"])
        action = .sync(
          terminal: try r.string(m["terminal"]!, "sync.terminal"),
          mayFail: try m["may-fail"].map { try r.bool($0, "sync.may-fail") } ?? false)
      } else {
        action = .sync(terminal: try r.string(value, "sync"), mayFail: false)
      }
    case "offline", "partition": action = .offline(try r.strings(value, name))
    case "online": action = .online(try r.strings(value, "online"))
    case "advance": action = .advance(seconds: try r.duration(value, "advance"))
    case "crash": action = .crash(try r.string(value, "crash"))
    case "deduct": action = .deduct
    case "check": action = .check
    case "settle": action = .settle
    case "invariants": action = .invariants
    case "crash-during-sync":
      let c = try r.mapping(
        value, "crash-during-sync", required: ["terminal", "after-commits"], optional: [])
      let commits = try r.int(c["after-commits"]!, "after-commits")
      guard commits >= 0 else {
        throw r.error(c["after-commits"]!, "after-commits must be 0 or more")
      }
      action = .crashDuringSync(
        terminal: try r.string(c["terminal"]!, "terminal"), afterCommits: commits)
    case "login": action = .login(terminal: try r.string(value, "login"))
    case "skew":
      let k = try r.mapping(value, "skew", required: ["terminal", "by"], optional: [])
      action = .skew(
        terminal: try r.string(k["terminal"]!, "terminal"),
        seconds: try r.signedDuration(k["by"]!, "skew.by"))
    case "link":
      let l = try r.mapping(
        value, "link", required: ["terminal"],
        optional: ["drop-requests", "drop-responses", "duplicate", "reorder", "delay"])
      var faults = LinkFaults()
      faults.dropRequests =
        try l["drop-requests"].map { try r.probability($0, "drop-requests") } ?? 0
      faults.dropResponses =
        try l["drop-responses"].map { try r.probability($0, "drop-responses") } ?? 0
      faults.duplicate = try l["duplicate"].map { try r.probability($0, "duplicate") } ?? 0
      faults.reorder = try l["reorder"].map { try r.probability($0, "reorder") } ?? 0
      faults.delaySeconds = try l["delay"].map { try r.duration($0, "delay") } ?? 0
      action = .link(terminal: try r.string(l["terminal"]!, "link.terminal"), faults)
    case "central":
      let c = try r.mapping(
        value, "central",
        required: [],
        optional: [
          "suspend", "withhold", "reinstate", "revoke", "renew", "change-class", "rotate-key",
          "revoke-key", "pay", "apply", "revoke-terminal", "education",
        ])
      guard c.count == 1, let (key, v) = c.first else {
        throw r.error(value, "central takes one change, such as `suspend: LICENCE`")
      }
      switch key {
      case "suspend": action = .central(.suspend(try r.string(v, key)))
      case "withhold": action = .central(.withhold(try r.string(v, key)))
      case "reinstate": action = .central(.reinstate(try r.string(v, key)))
      case "revoke": action = .central(.revoke(try r.string(v, key)))
      case "renew": action = .central(.renew(try r.string(v, key)))
      case "rotate-key": action = .central(.rotateKey(try r.string(v, key)))
      case "revoke-key": action = .central(.revokeKey(try r.string(v, key)))
      case "pay": action = .central(.pay(try r.string(v, key)))
      case "apply": action = .central(.apply(try r.string(v, key)))
      case "revoke-terminal": action = .central(.revokeTerminal(try r.string(v, key)))
      case "education":
        let e = try r.mapping(
          v, "education", required: ["licence", "completed", "exam"], optional: [])
        let text = try r.string(e["exam"]!, "exam")
        guard let exam = ExamResult(rawValue: text) else {
          throw r.error(e["exam"]!, "exam is passed or failed, not \"\(text)\"")
        }
        let completed = try r.string(e["completed"]!, "completed")
        guard LocalDate(iso: completed) != nil else {
          throw r.error(e["completed"]!, "completed is a date such as 2026-12-01")
        }
        action = .central(
          .education(
            try r.string(e["licence"]!, "licence"), completed: completed, passed: exam == .passed))
      default:
        let cc = try r.mapping(v, "change-class", required: ["licence", "to"], optional: [])
        action = .central(
          .changeClass(try r.string(cc["licence"]!, "licence"), to: try r.string(cc["to"]!, "to")))
      }
    case "present":
      let p = try r.mapping(
        value, "present", required: ["terminal", "holder"],
        optional: [
          "vehicle", "nonce", "terminal-nonce", "disclose", "delay", "replay", "staleness",
          "phone-clock",
        ])
      action = .present(
        Presentation(
          terminal: try r.string(p["terminal"]!, "terminal"),
          holder: try r.string(p["holder"]!, "holder"),
          vehicle: try p["vehicle"].map { try r.string($0, "vehicle") },
          nonce: try p["nonce"].map { try r.string($0, "nonce") },
          terminalNonce: try p["terminal-nonce"].map { try r.string($0, "terminal-nonce") },
          disclose: try p["disclose"].map { try r.strings($0, "disclose") },
          delaySeconds: try p["delay"].map { try r.duration($0, "delay") } ?? 1,
          replay: try p["replay"].map { try r.bool($0, "replay") } ?? false,
          stalenessSeconds: try p["staleness"].map { try r.duration($0, "staleness") },
          phoneClockSeconds: try p["phone-clock"].map { try r.signedDuration($0, "phone-clock") }
            ?? 0))
    case "lookup":
      let l = try r.mapping(value, "lookup", required: ["terminal", "licence"], optional: [])
      action = .lookup(
        terminal: try r.string(l["terminal"]!, "terminal"),
        licence: try r.string(l["licence"]!, "licence"))
    case "record":
      let s = try r.mapping(
        value, "record", required: ["terminal", "licence", "plate", "vehicle", "offences"],
        optional: ["fines", "place", "refused-to-sign"])
      action = .record(
        Stop(
          terminal: try r.string(s["terminal"]!, "terminal"),
          licence: try r.string(s["licence"]!, "licence"),
          plate: try r.string(s["plate"]!, "plate"),
          vehicle: try r.string(s["vehicle"]!, "vehicle"),
          offences: try r.strings(s["offences"]!, "offences"),
          fines: try s["fines"].map { try r.sequence($0, "fines").map { try r.int($0, "a fine") } },
          place: try s["place"].map { try r.string($0, "place") } ?? "长安街",
          refusedToSign: try s["refused-to-sign"].map { try r.bool($0, "refused-to-sign") } ?? false
        ))
    case "decide":
      let d = try r.mapping(value, "decide", required: ["document"], optional: ["fine", "measure"])
      action = .decide(
        document: try r.string(d["document"]!, "document"),
        fineYuan: try d["fine"].map { try r.int($0, "fine") },
        measure: try d["measure"].map { node in
          do { return try LicenceMeasure(parsing: try r.string(node, "measure")) } catch let
            error as DomainError
          { throw r.error(node, error.description) }
        })
    case "void":
      let v = try r.mapping(
        value, "void", required: ["terminal", "document"], optional: ["reason"])
      action = .void(
        terminal: try r.string(v["terminal"]!, "terminal"),
        document: try r.string(v["document"]!, "document"),
        reason: try v["reason"].map { try r.string($0, "reason") } ?? "voided in the scenario")
    default:  // bank-fault
      let f = try r.mapping(value, "bank-fault", required: ["kind"], optional: ["after", "times"])
      let kind = try r.string(f["kind"]!, "kind")
      let kinds = [
        "insufficient-funds", "mandate-revoked", "account-closed", "unavailable",
        "timeout-after-commit", "slow",
      ]
      guard kinds.contains(kind) else {
        throw r.error(
          f["kind"]!,
          "unknown bank fault \"\(kind)\"; expected one of \(kinds.joined(separator: ", "))")
      }
      action = .bankFault(
        kind: kind, after: try f["after"].map { try r.int($0, "after") } ?? 0,
        times: try f["times"].map { try r.int($0, "times") } ?? 1)
    }
    var expectations: [Expectation] = []
    if let e = m["expect"] {
      for (key, value) in try r.pairs(e, "expect") {
        guard Expectations.keys.contains(key.0) else {
          throw r.error(
            key.1,
            "unknown expectation \"\(key.0)\"; expected one of \(Expectations.keys.sorted().joined(separator: ", "))"
          )
        }
        expectations.append(
          Expectation(line: r.line(key.1), key: key.0, value: try r.expected(value, key.0)))
      }
    }
    var ask: DrillQuestion?
    if let a = m["ask"] {
      let q = try r.mapping(a, "ask", required: ["prompt", "answers", "why"], optional: [])
      ask = DrillQuestion(
        prompt: try r.string(q["prompt"]!, "prompt"),
        answers: Dictionary(
          uniqueKeysWithValues: try r.pairs(q["answers"]!, "answers").map {
            ($0.0.0, try r.strings($0.1, $0.0.0).joined(separator: ","))
          }),
        explanation: try r.string(q["why"]!, "why"))
    }
    return Step(
      line: r.line(node), action: action, expect: expectations, ask: ask,
      say: try m["say"].map { try r.string($0, "say") })
  }

  static func line(of error: YamlError) -> Int {
    switch error {
    case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
      mark.line
    default: 1
    }
  }
}

/// Typed access to YAML nodes with errors that name the line.
struct Reader {
  let file: String

  func line(_ node: Node) -> Int { node.mark?.line ?? 0 }

  func error(_ node: Node, _ message: String) -> ScenarioError {
    ScenarioError(file: file, line: line(node), message)
  }

  func pairs(_ node: Node, _ what: String) throws -> [((String, Node), Node)] {
    guard let mapping = node.mapping else { throw error(node, "\(what) must be a mapping") }
    return try mapping.map { key, value in
      guard let name = key.string else { throw error(key, "\(what) has a key that is not text") }
      return ((name, key), value)
    }
  }

  func mapping(_ node: Node, _ what: String, required: [String], optional: [String]) throws
    -> [String: Node]
  {
    var result: [String: Node] = [:]
    for ((name, key), value) in try pairs(node, what) {
      guard required.contains(name) || optional.contains(name) else {
        throw error(
          key,
          "unknown field \"\(name)\" in \(what); expected \((required + optional).joined(separator: ", "))"
        )
      }
      result[name] = value
    }
    for name in required where result[name] == nil {
      throw error(node, "\(what) needs the field \"\(name)\"")
    }
    return result
  }

  func sequence(_ node: Node, _ what: String) throws -> [Node] {
    guard let sequence = node.sequence else { throw error(node, "\(what) must be a list") }
    return Array(sequence)
  }

  func string(_ node: Node, _ what: String) throws -> String {
    guard case .scalar(let scalar) = node else { throw error(node, "\(what) must be text") }
    return scalar.string
  }

  func strings(_ node: Node, _ what: String) throws -> [String] {
    if case .scalar = node { return [try string(node, what)] }
    return try sequence(node, what).map { try string($0, what) }
  }

  /// A seed: a whole number from 0 to 18446744073709551615.
  func seed(_ node: Node) throws -> UInt64 {
    guard case .scalar(let scalar) = node, let value = UInt64(scalar.string) else {
      throw error(node, "seed must be a whole number from 0 to \(UInt64.max)")
    }
    return value
  }

  func int(_ node: Node, _ what: String) throws -> Int {
    guard case .scalar = node, let value = node.int else {
      throw error(node, "\(what) must be a whole number")
    }
    return value
  }

  func bool(_ node: Node, _ what: String) throws -> Bool {
    guard case .scalar = node, let value = node.bool else {
      throw error(node, "\(what) must be true or false")
    }
    return value
  }

  func probability(_ node: Node, _ what: String) throws -> Double {
    guard case .scalar = node, let value = node.float, (0...1).contains(value) else {
      throw error(node, "\(what) must be a probability between 0 and 1")
    }
    return value
  }

  /// `90s`, `15m`, `2h`, `16d`, or a number of seconds.
  func duration(_ node: Node, _ what: String) throws -> Int64 {
    let text = try string(node, what).trimmingCharacters(in: .whitespaces)
    let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    if let unit = text.last, let factor = units[unit], let n = Int64(text.dropLast()), n >= 0 {
      return n * factor
    }
    if let n = Int64(text), n >= 0 { return n }
    throw error(node, "\(what) must be a duration such as 90s, 15m, 2h or 16d, not \"\(text)\"")
  }

  /// A duration that may be negative: `+2m`, `-90s`.
  func signedDuration(_ node: Node, _ what: String) throws -> Int64 {
    let text = try string(node, what).trimmingCharacters(in: .whitespaces)
    if text.hasPrefix("-") {
      return
        -(try duration(.scalar(.init(String(text.dropFirst()), .implicit, .any, node.mark)), what))
    }
    return try duration(
      .scalar(
        .init(text.hasPrefix("+") ? String(text.dropFirst()) : text, .implicit, .any, node.mark)),
      what)
  }

  func expected(_ node: Node, _ key: String) throws -> ExpectedValue {
    switch node {
    case .scalar:
      if let bool = node.bool, ["true", "false"].contains(node.string?.lowercased() ?? "") {
        return .flag(bool)
      }
      if let int = node.int { return .number(int) }
      return .text(try string(node, key))
    case .sequence: return .list(try strings(node, key))
    case .mapping:
      var map: [String: Int] = [:]
      for ((name, _), value) in try pairs(node, key) {
        map[name] = try int(value, "\(key).\(name)")
      }
      return .map(map)
    case .alias: throw error(node, "\(key) must not be an alias")
    }
  }
}

/// The expectations a step may carry (Scenarios/README.md documents each).
enum Expectations {
  static let keys: Set<String> = [
    "verdict", "reasons", "found", "status", "points", "cache-stale", "documents",
    "paper-licence", "outbox", "conflicts", "deductions", "balance", "reconcile", "error",
    "central-status", "central-points", "decisions", "licence",
  ]
}
