import Foundation
public import RoadsideDomain

/// A picture of one run as SVG: a lane for central, one for the bank and one per terminal
/// (grouped into lanes of ``Timeline/groupSize`` when the fleet is larger than
/// ``Timeline/largestUngroupedFleet``), time across. Each mark is an element with a `class`
/// naming what it is (`sync`, `sync failed`, `conflict`, `partition`, `lossy`, `crash`,
/// `crash torn`, `skew`, `stop`, `check`, `void`, `central-change`, `deduct`, `bank-fault`,
/// `settle`, `violation`), a `data-step` giving the step's place in the run (from 1) and a
/// `<title>` with the step and what it did, so a person hovering and a test parsing see the
/// same thing. A run that broke an invariant has its violations drawn in red after the day.
public struct Timeline: Sendable {
  public static let largestUngroupedFleet = 24
  public static let groupSize = 20

  public let title: String
  public let terminals: [String]
  public let steps: [ScheduledStep]
  public let violations: [InvariantViolation]

  public init(
    title: String, terminals: [String], steps: [ScheduledStep], violations: [InvariantViolation]
  ) {
    self.title = title
    self.terminals = terminals
    self.steps = steps
    self.violations = violations
  }

  /// The lanes from the top: central, the bank, then the terminals or their groups.
  public var lanes: [String] {
    ["central", "bank"] + terminalLanes.map(\.name)
  }

  var terminalLanes: [(name: String, members: Set<String>)] {
    guard terminals.count > Timeline.largestUngroupedFleet else {
      return terminals.map { ($0, [$0]) }
    }
    return stride(from: 0, to: terminals.count, by: Timeline.groupSize).map { start in
      let group = Array(terminals[start..<min(start + Timeline.groupSize, terminals.count)])
      return ("\(group.first!)…\(group.last!.suffix(4)) (\(group.count))", Set(group))
    }
  }

  /// The lane index of terminal `id` (or of `central`, `bank`).
  func lane(_ id: String) -> Int {
    if id == "central" { return 0 }
    if id == "bank" { return 1 }
    return 2 + (terminalLanes.firstIndex { $0.members.contains(id) } ?? 0)
  }

  public func svg() -> String {
    let left = 190.0
    let width = 1_200.0
    let laneHeight = 28.0
    let top = 70.0
    let plot = width - left - 20
    let lanes = self.lanes
    let first = steps.first?.at.secondsSinceEpoch ?? 0
    let last = max(first + 1, steps.last?.at.secondsSinceEpoch ?? first + 1)
    let violationHeight = violations.isEmpty ? 0.0 : 24.0 + Double(min(violations.count, 8)) * 16
    let height = top + Double(lanes.count) * laneHeight + 40 + violationHeight
    func x(_ at: Timestamp) -> Double {
      left + Double(at.secondsSinceEpoch - first) / Double(last - first) * plot
    }
    func y(_ lane: Int) -> Double { top + Double(lane) * laneHeight + laneHeight / 2 }
    func number(_ value: Double) -> String { String(format: "%.1f", value) }
    var out: [String] = []
    out.append(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">"
    )
    out.append(
      """
      <style>
      .lane{fill:#f6f6f6}.lane-label{fill:#333}.sync{fill:#2b7bb9}.failed{fill:#fff;stroke:#c0392b;stroke-width:1.5}
      .conflict{fill:#e67e22}.partition{fill:#95a5a6;opacity:.45}.lossy{fill:#f1c40f;opacity:.35}
      .crash{stroke:#c0392b;stroke-width:2.5}.torn{stroke:#8e44ad}.skew{fill:#e67e22;opacity:.3}
      .stop{stroke:#27ae60;stroke-width:1.5}.check{stroke:#7f8c8d;stroke-width:1}.void{stroke:#8e44ad;stroke-width:2}
      .central-change{fill:#16a085}.deduct{fill:#2c3e50}.bank-fault{fill:#c0392b}.settle{stroke:#2c3e50;stroke-dasharray:4 3}
      .violation{fill:#c0392b}.violation-band{fill:#c0392b;opacity:.12}
      </style>
      """)
    out.append(
      "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>")
    let legend = [
      ("sync", "sync"), ("failed", "sync that failed"), ("conflict", "conflict"),
      ("partition", "off the network"), ("lossy", "lossy link"), ("skew", "clock skew"),
      ("crash", "crash"), ("bank-fault", "bank fault"), ("deduct", "deduction run"),
    ]
    var legendX = 10.0
    for (kind, label) in legend {
      out.append(
        "<rect x=\"\(number(legendX))\" y=\"34\" width=\"10\" height=\"10\" class=\"legend \(kind)\"/><text x=\"\(number(legendX + 14))\" y=\"43\">\(label)</text>"
      )
      legendX += 14 + Double(label.count) * 6.2 + 16
    }
    out.append(
      "<text x=\"10\" y=\"60\" fill=\"#666\">\(steps.first.map { "\($0.at)" } ?? "") → \(steps.last.map { "\($0.at)" } ?? "")</text>"
    )
    for (index, name) in lanes.enumerated() {
      out.append(
        "<rect class=\"lane\" x=\"\(number(left))\" y=\"\(number(top + Double(index) * laneHeight + 2))\" width=\"\(number(plot))\" height=\"\(number(laneHeight - 4))\"/>"
      )
      out.append(
        "<text class=\"lane-label\" x=\"10\" y=\"\(number(y(index) + 4))\">\(escape(name))</text>")
    }
    // Bands: from the step that starts a state to the one that ends it (or the end).
    var offlineSince: [String: (Timestamp, Int)] = [:]
    var lossySince: [String: (Timestamp, Int)] = [:]
    var skewSince: [String: (Timestamp, Int)] = [:]
    /// One mark: `<name class="kind" attributes data-step="step"><title>text</title></name>`.
    func mark(_ name: String, _ kind: String, _ attributes: String, step: Int, _ text: String) {
      out.append(
        "<\(name) class=\"\(kind)\" \(attributes) data-step=\"\(step)\"><title>\(escape(text))</title></\(name)>"
      )
    }
    func band(_ kind: String, _ id: String, from: (Timestamp, Int), to: Timestamp, _ label: String)
    {
      let lane = lane(id)
      let start = x(from.0)
      mark(
        "rect", kind,
        "x=\"\(number(start))\" y=\"\(number(y(lane) - laneHeight / 2 + 3))\" width=\"\(number(max(1.5, x(to) - start)))\" height=\"\(number(laneHeight - 6))\"",
        step: from.1, "\(id) \(label) from \(from.0) to \(to)")
    }
    let end = steps.last?.at ?? Timestamp(secondsSinceEpoch: last)
    for (offset, step) in steps.enumerated() {
      let index = offset + 1
      let text =
        ScenarioRunner().describe(step.action) + ": "
        + (step.error.map { "refused: \($0)" } ?? step.outcome.joined(separator: "; "))
      let at = x(step.at)
      func crossMark(_ kind: String, id: String) {
        let lane = lane(id)
        let cy = y(lane)
        mark(
          "path", kind, "d=\"M\(number(at - 5)) \(number(cy - 5))l10 10m0 -10l-10 10\"",
          step: index, text)
      }
      switch step.action {
      case .sync(let id, _), .crashDuringSync(let id, _):
        let failed =
          step.error != nil || step.outcome.contains { $0.contains("did not get through") }
        if case .crashDuringSync = step.action {
          crossMark("crash torn", id: id)
        } else {
          mark(
            "circle", failed ? "sync failed" : "sync",
            "cx=\"\(number(at))\" cy=\"\(number(y(lane(id))))\" r=\"4\"",
            step: index, text)
        }
        if let conflicts = Timeline.conflicts(in: step.outcome), conflicts > 0 {
          mark(
            "path", "conflict", "d=\"M\(number(at)) \(number(y(0) - 7))l6 7l-6 7l-6 -7z\"",
            step: index, "\(conflicts) conflict(s) from \(id): \(text)")
        }
      case .offline(let ids):
        for id in ids where offlineSince[id] == nil { offlineSince[id] = (step.at, index) }
      case .online(let ids):
        for id in ids {
          if let since = offlineSince.removeValue(forKey: id) {
            band("partition", id, from: since, to: step.at, "off the network")
          }
        }
      case .link(let id, let faults):
        if let since = lossySince.removeValue(forKey: id) {
          band("lossy", id, from: since, to: step.at, "on a lossy link")
        }
        if faults != LinkFaults() { lossySince[id] = (step.at, index) }
      case .skew(let id, let seconds):
        if let since = skewSince.removeValue(forKey: id) {
          band("skew", id, from: since, to: step.at, "with its clock off")
        }
        if seconds != 0 { skewSince[id] = (step.at, index) }
      case .crash(let id):
        crossMark("crash", id: id)
      case .record(let stop):
        let lane = lane(stop.terminal)
        mark(
          "line", "stop",
          "x1=\"\(number(at))\" x2=\"\(number(at))\" y1=\"\(number(y(lane) - 8))\" y2=\"\(number(y(lane) + 8))\"",
          step: index, text)
      case .present(let p):
        let lane = lane(p.terminal)
        mark(
          "line", "check",
          "x1=\"\(number(at))\" x2=\"\(number(at))\" y1=\"\(number(y(lane) - 5))\" y2=\"\(number(y(lane) + 5))\"",
          step: index, text)
      case .void(let id, _, _):
        let lane = lane(id)
        mark(
          "line", "void",
          "x1=\"\(number(at - 4))\" x2=\"\(number(at + 4))\" y1=\"\(number(y(lane) - 6))\" y2=\"\(number(y(lane) + 6))\"",
          step: index, text)
      case .central, .decide:
        mark(
          "rect", "central-change",
          "x=\"\(number(at - 3))\" y=\"\(number(y(0) - 3))\" width=\"6\" height=\"6\"",
          step: index, text)
      case .deduct:
        mark(
          "rect", "deduct",
          "x=\"\(number(at - 3))\" y=\"\(number(y(1) - 3))\" width=\"6\" height=\"6\"",
          step: index, text)
      case .bankFault:
        mark(
          "path", "bank-fault", "d=\"M\(number(at)) \(number(y(1) - 7))l6 11h-12z\"",
          step: index, text)
      case .settle:
        for (id, since) in offlineSince {
          band("partition", id, from: since, to: step.at, "off the network")
        }
        for (id, since) in lossySince {
          band("lossy", id, from: since, to: step.at, "on a lossy link")
        }
        for (id, since) in skewSince {
          band("skew", id, from: since, to: step.at, "with its clock off")
        }
        offlineSince = [:]
        lossySince = [:]
        skewSince = [:]
        mark(
          "line", "settle",
          "x1=\"\(number(at))\" x2=\"\(number(at))\" y1=\"\(number(top))\" y2=\"\(number(top + Double(lanes.count) * laneHeight))\"",
          step: index, text)
      case .invariants, .advance, .lookup, .login, .check:
        break
      }
    }
    for (id, since) in offlineSince {
      band("partition", id, from: since, to: end, "off the network")
    }
    for (id, since) in lossySince { band("lossy", id, from: since, to: end, "on a lossy link") }
    for (id, since) in skewSince { band("skew", id, from: since, to: end, "with its clock off") }
    if !violations.isEmpty {
      let base = top + Double(lanes.count) * laneHeight
      out.append(
        "<rect class=\"violation-band\" x=\"\(number(x(end) - 6))\" y=\"\(number(top))\" width=\"12\" height=\"\(number(base - top))\"/>"
      )
      out.append(
        "<text class=\"violation\" x=\"10\" y=\"\(number(base + 30))\" font-weight=\"bold\">\(violations.count) invariant(s) violated:</text>"
      )
      for (index, violation) in violations.prefix(8).enumerated() {
        out.append(
          "<text class=\"violation\" x=\"20\" y=\"\(number(base + 46 + Double(index) * 16))\">\(escape(violation.description))</text>"
        )
      }
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  /// The conflicts a sync's push reported ("…, 2 conflict; pulled …").
  public static func conflicts(in outcome: [String]) -> Int? {
    for line in outcome {
      guard let range = line.range(of: " conflict;") else { continue }
      let before = line[..<range.lowerBound]
      guard let space = before.lastIndex(of: " ") else { continue }
      return Int(before[before.index(after: space)...])
    }
    return nil
  }
}

/// Text for an SVG element or attribute.
func escape(_ text: String) -> String {
  text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
