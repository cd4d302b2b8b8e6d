import Foundation
import RoadsideCentral
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol

/// Pretty, key-sorted JSON for `--json` output. The shapes are documented in README.md.
func printJSON(_ value: some Encodable) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Display width of a string in a monospaced terminal (CJK characters take two cells).
func displayWidth(_ text: String) -> Int {
  text.unicodeScalars.reduce(0) { width, scalar in
    let v = scalar.value
    let wide =
      (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v)
      || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v)
      || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
      || (0xFFE0...0xFFE6).contains(v)
    return width + (wide ? 2 : 1)
  }
}

func padded(_ text: String, _ width: Int) -> String {
  text + String(repeating: " ", count: max(0, width - displayWidth(text)))
}

/// Prints rows as aligned columns.
func printTable(_ header: [String], _ rows: [[String]]) {
  var widths = header.map(displayWidth)
  for row in rows {
    for (i, cell) in row.enumerated() { widths[i] = max(widths[i], displayWidth(cell)) }
  }
  func line(_ cells: [String]) -> String {
    cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : padded(cell, widths[i]) }
      .joined(separator: "  ")
  }
  print(line(header))
  for row in rows { print(line(row)) }
}

/// A labelled field line: `  Status        A 正常`.
func field(_ label: String, _ value: String) -> String {
  "  \(padded(label, 14))\(value)"
}

func describe(_ dossier: LicenceDossier) -> [String] {
  let l = dossier.licence
  let table = PermittedClassTable.current
  let also = table.permitted(by: l.classes).subtracting(l.classes).sorted()
  var lines: [String] = []
  lines.append("Licence \(l.number)  \(l.name) (\(l.gender.chinese), born \(l.birthDate))")
  lines.append(field("File number", l.fileNumber.value))
  let classNames = l.classes.map { "\($0.rawValue) \($0.chinese)" }.joined(separator: ", ")
  lines.append(
    field(
      "Classes",
      classNames
        + (also.isEmpty ? "" : "; also permits \(also.map(\.rawValue).joined(separator: " "))")))
  lines.append(
    field(
      "Validity",
      "\(l.validity.display) (\(l.validity.term.rawValue))\(dossier.expired ? " — EXPIRED" : "")"))
  lines.append(
    field(
      "Status",
      "\(l.status.code) \(l.status.chinese) (\(l.status.english))"
        + (l.suspendedUntil.map { ", suspended until \($0)" } ?? "")))
  lines.append(field("Drive today", dossier.permitsDriving ? "yes" : "no"))
  lines.append(field("Authority", "\(l.authority.name) (\(l.authority.code))"))
  lines.append(field("Address", l.address))
  lines.append(field("E-licence", "epoch \(l.epoch)"))
  lines.append(
    field(
      "Points",
      "\(dossier.points.total) of 12 in cycle \(dossier.points.cycleStart) – \(dossier.points.cycleLastDay)"
    ))
  for entry in dossier.points.entries {
    lines.append(
      field(
        "",
        "\(entry.points) pt  \(entry.offenceCode)  decision \(entry.decisionNumber) \(entry.decidedOn)\(entry.finePaid ? "" : "  (fine unpaid)")"
      ))
  }
  if dossier.vehicles.isEmpty {
    lines.append(field("Vehicles", "none registered"))
  } else {
    for (i, v) in dossier.vehicles.enumerated() {
      lines.append(
        field(i == 0 ? "Vehicles" : "", "\(v.plate)  needs \(v.vehicleClass.rawValue)  \(v.model)"))
    }
  }
  if let mandate = dossier.mandate {
    lines.append(
      field(
        "Bank mandate",
        "\(mandate.bank) ****\(mandate.account.suffix(4)) since \(mandate.authorisedOn)"))
  } else {
    lines.append(field("Bank mandate", "none"))
  }
  let unpaid = dossier.decisions.filter { !$0.paid && $0.state == .effective && $0.fine > .zero }
  lines.append(field("Decisions", "\(dossier.decisions.count) on record, \(unpaid.count) unpaid"))
  lines.append(field("As of", dossier.asOf.description))
  return lines
}
