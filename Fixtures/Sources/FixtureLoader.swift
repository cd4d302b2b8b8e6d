public import Foundation
import RoadsideCredentials
public import RoadsideDomain

/// A fixture file or record that cannot be loaded: names the file, the line (one record a
/// line) and what is wrong with it.
public struct FixtureError: Error, Sendable, Equatable, CustomStringConvertible {
  public let file: String
  public let line: Int?
  public let message: String

  public init(file: String, line: Int?, message: String) {
    self.file = file
    self.line = line
    self.message = message
  }

  public var description: String {
    if let line { return "\(file) line \(line): \(message)" }
    return "\(file): \(message)"
  }
}

/// Reads a fixture directory: JSON Lines files, one record per line.
///
/// | file | record | required |
/// |---|---|---|
/// | `licences.jsonl` | ``Licence`` | yes |
/// | `vehicles.jsonl` | ``VehicleRecord`` | no |
/// | `officers.jsonl` | ``OfficerRecord`` | no |
/// | `terminals.jsonl` | ``TerminalRecord`` | no |
/// | `mandates.jsonl` | ``MandateRecord`` | no |
/// | `decisions.jsonl` | ``DecisionRecord`` | no |
/// | `calendar.jsonl` | ``CalendarDay`` | no |
///
/// Every record is decoded strictly (a missing, misspelt or unknown field is an error),
/// checked by the domain rules, and checked against the others (duplicates, references
/// to unknown licences or offences, fines outside the legal range). Then the set is held
/// to the law on its ``FixtureSet/snapshotDate`` (or the date the caller gives): every
/// licence one the office could have issued and still in force on that day
/// (``Licence/issuanceBreach(on:)``: 公安部令第162号 §14, §16, §17, §65), and every decision
/// whose offence revokes or suspends reflected in its licence's status (道路交通安全法 §91,
/// §101). Loading stops at the first bad record and reports its file, line and article;
/// nothing is returned half-loaded.
public struct FixtureLoader: Sendable {
  public static let fileNames = [
    "licences.jsonl", "vehicles.jsonl", "officers.jsonl", "terminals.jsonl", "mandates.jsonl",
    "decisions.jsonl", "calendar.jsonl",
  ]

  public let catalogue: OffenceCatalogue

  /// The fields each file's records may have; nested fields as `parent.child`.
  static let fields: [String: Set<String>] = [
    "licences.jsonl": [
      "number", "fileNumber", "name", "gender", "birthDate", "nationality", "address", "photo",
      "firstIssued", "classes", "validity", "validity.term", "validity.validFrom",
      "validity.validUntil", "authority", "authority.name", "authority.code", "status", "epoch",
      "suspendedUntil",
    ],
    "vehicles.jsonl": ["plate", "vehicleClass", "owner", "model", "registered"],
    "officers.jsonl": ["id", "name", "unit", "pinHash"],
    "terminals.jsonl": ["id", "unit"],
    "mandates.jsonl": ["licence", "bank", "account", "authorisedOn", "revokedOn"],
    "decisions.jsonl": [
      "number", "licence", "plate", "offence", "decidedOn", "fineYuan", "paid", "place",
    ],
    "calendar.jsonl": ["date", "kind", "name"],
  ]

  public init(catalogue: OffenceCatalogue = .current) { self.catalogue = catalogue }

  /// Loads and checks the set in `directory`; `asOf` overrides the day the time-dependent
  /// rules are checked on (default: the set's own ``FixtureSet/snapshotDate``).
  public func load(directory: URL, asOf: LocalDate? = nil) throws(FixtureError) -> FixtureSet {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw FixtureError(
        file: directory.path, line: nil,
        message: "no such fixture directory; give a folder holding licences.jsonl")
    }
    var set = FixtureSet()
    set.licences = try records(Licence.self, "licences.jsonl", in: directory, required: true) {
      (licence: Licence) throws(DomainError) in try licence.validate()
    }.map { licence in
      // Classes in the order of the class table, once each, as every other path stores them
      // (a terminal's cache sorts what it parses: "C6C1" at central would never equal it).
      var canonical = licence
      canonical.classes = Array(Set(licence.classes)).sorted()
      return canonical
    }
    set.vehicles = try records(VehicleRecord.self, "vehicles.jsonl", in: directory) {
      (_: VehicleRecord) throws(DomainError) in
    }
    set.officers = try records(OfficerRecord.self, "officers.jsonl", in: directory) {
      (officer: OfficerRecord) throws(DomainError) in try officer.validate()
    }
    set.terminals = try records(TerminalRecord.self, "terminals.jsonl", in: directory) {
      (terminal: TerminalRecord) throws(DomainError) in try TerminalRecord.validate(id: terminal.id)
    }
    set.mandates = try records(MandateRecord.self, "mandates.jsonl", in: directory) {
      (mandate: MandateRecord) throws(DomainError) in try mandate.validate()
    }
    set.decisions = try records(DecisionRecord.self, "decisions.jsonl", in: directory) {
      (record: DecisionRecord) throws(DomainError) in
      try DecisionRecord.validate(number: record.number)
      let offence = try catalogue.require(record.offence)
      try offence.fine.check(record.fineYuan, offence: offence.code)
    }
    set.calendar = try records(CalendarDay.self, "calendar.jsonl", in: directory) {
      (day: CalendarDay) throws(DomainError) in try day.validate()
    }
    try crossCheck(set, directory: directory)
    if let date = asOf ?? set.snapshotDate {
      try checkLaw(set, on: date, directory: directory)
    }
    return set
  }

  /// The law's rules on `date`: issuance and age (公安部令第162号), and decisions' measures.
  private func checkLaw(_ set: FixtureSet, on date: LocalDate, directory: URL)
    throws(FixtureError)
  {
    func fail(_ file: String, _ index: Int, _ message: String) -> FixtureError {
      FixtureError(
        file: directory.appendingPathComponent(file).path, line: index + 1, message: message)
    }
    var byNumber: [LicenceNumber: Licence] = [:]
    for (index, licence) in set.licences.enumerated() {
      if let breach = licence.issuanceBreach(on: date) {
        throw fail("licences.jsonl", index, "licence \(licence.number.masked): \(breach)")
      }
      byNumber[licence.number] = licence
    }
    for (index, decision) in set.decisions.enumerated() {
      guard let offence = catalogue.offence(decision.offence),
        let licence = byNumber[decision.licence],
        let required = offence.measure.requiredStatus(decidedOn: decision.decidedOn, on: date),
        !licence.status.contains(required), !licence.status.contains(.revoked)
      else { continue }
      let effect =
        switch offence.measure {
        case .suspend(let months):
          "suspends the licence until \(decision.decidedOn.adding(months: months))"
        default: "revokes the licence"
        }
      throw fail(
        "decisions.jsonl", index,
        "decision \(decision.number) for offence \(offence.code) (\(offence.chinese)) \(effect) (\(offence.fine.basis)), but licence \(licence.number.masked) has status \(licence.status.code) on \(date); set its status to \(required.rawValue) or remove the decision"
      )
    }
  }

  private func crossCheck(_ set: FixtureSet, directory: URL) throws(FixtureError) {
    func fail(_ file: String, _ index: Int, _ message: String) -> FixtureError {
      FixtureError(
        file: directory.appendingPathComponent(file).path, line: index + 1, message: message)
    }
    var numbers: Set<LicenceNumber> = []
    var files: Set<FileNumber> = []
    for (index, licence) in set.licences.enumerated() {
      guard numbers.insert(licence.number).inserted else {
        throw fail("licences.jsonl", index, "licence \(licence.number.masked) appears twice")
      }
      guard files.insert(licence.fileNumber).inserted else {
        throw fail("licences.jsonl", index, "file number \(licence.fileNumber) appears twice")
      }
    }
    var plates: Set<Plate> = []
    for (index, vehicle) in set.vehicles.enumerated() {
      guard plates.insert(vehicle.plate).inserted else {
        throw fail("vehicles.jsonl", index, "plate \(vehicle.plate) appears twice")
      }
      guard numbers.contains(vehicle.owner) else {
        throw fail(
          "vehicles.jsonl", index,
          "field \"owner\": no licence \(vehicle.owner.masked) in licences.jsonl")
      }
    }
    var officers: Set<String> = []
    for (index, officer) in set.officers.enumerated()
    where !officers.insert(officer.id).inserted {
      throw fail("officers.jsonl", index, "officer \(officer.id) appears twice")
    }
    var terminals: Set<String> = []
    for (index, terminal) in set.terminals.enumerated()
    where !terminals.insert(terminal.id).inserted {
      throw fail("terminals.jsonl", index, "terminal \(terminal.id) appears twice")
    }
    var activeMandates: Set<LicenceNumber> = []
    for (index, mandate) in set.mandates.enumerated() {
      guard numbers.contains(mandate.licence) else {
        throw fail(
          "mandates.jsonl", index,
          "field \"licence\": no licence \(mandate.licence.masked) in licences.jsonl")
      }
      if mandate.isActive, !activeMandates.insert(mandate.licence).inserted {
        throw fail(
          "mandates.jsonl", index, "licence \(mandate.licence.masked) has a second active mandate")
      }
    }
    var decisions: Set<String> = []
    for (index, decision) in set.decisions.enumerated() {
      guard decisions.insert(decision.number).inserted else {
        throw fail("decisions.jsonl", index, "decision \(decision.number) appears twice")
      }
      guard numbers.contains(decision.licence) else {
        throw fail(
          "decisions.jsonl", index,
          "field \"licence\": no licence \(decision.licence.masked) in licences.jsonl")
      }
    }
  }

  /// The records of one JSON Lines file, in file order. Lines are decoded on every core
  /// (a million licences are read in a minute, not two), then validated in order, so the
  /// error reported is always the first bad line's, as a line-by-line reader would find it.
  private func records<T: Codable & Sendable>(
    _ type: T.Type, _ name: String, in directory: URL, required: Bool = false,
    validate: (T) throws(DomainError) -> Void
  ) throws(FixtureError) -> [T] {
    let url = directory.appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else {
      if required {
        throw FixtureError(
          file: url.path, line: nil,
          message: "missing; a fixture directory needs at least licences.jsonl")
      }
      return []
    }
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw FixtureError(
        file: url.path, line: nil, message: "cannot be read (\(error.localizedDescription))")
    }
    let allowed = FixtureLoader.fields[name] ?? []
    let objects = Set(
      allowed.compactMap {
        $0.split(separator: ".").count > 1 ? String($0.split(separator: ".")[0]) : nil
      })
    var lines: [(number: Int, text: Data)] = []
    var lineNumber = 0
    for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      lineNumber += 1
      if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
      lines.append((lineNumber, Data(line)))
    }
    let path = url.path
    let decoded: [Decoded<T>]
    do {
      decoded = try ParallelMap.map(
        lines,
        prepare: {
          let decoder = JSONDecoder()
          decoder.userInfo[Strict<T>.objectFieldsKey] = objects
          return decoder
        }
      ) { decoder, line in
        do {
          let record = try decoder.decode(Strict<T>.self, from: line.text)
          if let unknown = record.fields.first(where: { !allowed.contains($0) }) {
            return .failure(
              FixtureError(
                file: path, line: line.number,
                message:
                  "unknown field \"\(unknown)\"; see Fixtures/README.md for the fields of \(name)"))
          }
          return .record(record.value)
        } catch let error as DecodingError {
          return .failure(
            FixtureError(file: path, line: line.number, message: FixtureLoader.describe(error)))
        } catch {
          return .failure(FixtureError(file: path, line: line.number, message: "not valid JSON"))
        }
      }
    } catch {
      throw FixtureError(file: path, line: nil, message: "cannot be decoded (\(error))")
    }
    var result: [T] = []
    result.reserveCapacity(decoded.count)
    for (line, outcome) in zip(lines, decoded) {
      switch outcome {
      case .failure(let error): throw error
      case .record(let value):
        do {
          try validate(value)
        } catch {
          throw FixtureError(file: path, line: line.number, message: error.description)
        }
        result.append(value)
      }
    }
    return result
  }

  /// One line for a decoding failure, naming the field.
  static func describe(_ error: DecodingError) -> String {
    func path(_ codingPath: [any CodingKey]) -> String {
      var text = ""
      for key in codingPath {
        if let index = key.intValue {
          text += "[\(index)]"
        } else {
          text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
      }
      return text
    }
    switch error {
    case .keyNotFound(let key, let context):
      return "field \"\(path(context.codingPath + [key]))\" is missing"
    case .valueNotFound(_, let context):
      return "field \"\(path(context.codingPath))\" is null but required"
    case .typeMismatch(_, let context) where context.codingPath.isEmpty:
      return "a record must be a JSON object"
    case .typeMismatch(let type, let context):
      return "field \"\(path(context.codingPath))\" has the wrong type; expected \(typeName(type))"
    case .dataCorrupted(let context):
      if context.codingPath.isEmpty { return "not valid JSON" }
      return "field \"\(path(context.codingPath))\": \(context.debugDescription)"
    @unknown default:
      return "cannot be decoded"
    }
  }

  static func typeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Int.Type, is Int64.Type: "an integer"
    case is Bool.Type: "true or false"
    case is Double.Type: "a number"
    default:
      String(describing: type).contains("Array") ? "a list" : "an object"
    }
  }
}

/// Decodes a record and, from the same decoder, the paths of every field the JSON object
/// has (in sorted order), in one pass over the text. Fields named in the decoder's
/// `objectFieldsKey` user info are objects whose own fields are listed as `parent.child`.
/// One line's outcome, decoded on any thread.
private enum Decoded<T: Sendable>: Sendable {
  case record(T)
  case failure(FixtureError)
}

struct Strict<T: Decodable>: Decodable {
  let value: T
  let fields: [String]

  static var objectFieldsKey: CodingUserInfoKey { CodingUserInfoKey(rawValue: "objectFields")! }

  init(from decoder: any Decoder) throws {
    value = try T(from: decoder)
    let objects = decoder.userInfo[Strict.objectFieldsKey] as? Set<String> ?? []
    fields = try Strict.paths(in: decoder, descendingInto: objects).sorted()
  }

  struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  static func paths(in decoder: any Decoder, descendingInto objects: Set<String>) throws -> [String]
  {
    guard let container = try? decoder.container(keyedBy: AnyKey.self) else { return [] }
    var result: [String] = []
    for key in container.allKeys {
      result.append(key.stringValue)
      if objects.contains(key.stringValue),
        let nested = try? container.nestedContainer(keyedBy: AnyKey.self, forKey: key)
      {
        result += nested.allKeys.map { "\(key.stringValue).\($0.stringValue)" }
      }
    }
    return result
  }
}
