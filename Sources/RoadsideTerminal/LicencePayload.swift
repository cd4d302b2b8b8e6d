import RoadsideDomain

/// The columns the terminal caches from a `licence` payload.
struct LicenceRow: Equatable {
  var number = ""
  var name = ""
  var gender = 0
  var birth = 0
  var firstIssued = 0
  var classes = ""
  var term = ""
  var validFrom = 0
  var authority = ""
  var status = ""
  var epoch = 0
  var suspendedUntil: Int?

  init() {}

  /// From a decoded licence (the general path).
  init(_ l: Licence) {
    number = l.number.value
    name = l.name
    gender = l.gender == .male ? 1 : 0
    birth = l.birthDate.daysSinceEpoch
    firstIssued = l.firstIssued.daysSinceEpoch
    classes = l.classes.code
    term = l.validity.term.rawValue
    validFrom = l.validity.validFrom.daysSinceEpoch
    authority = l.authority.code
    status = l.status.code
    epoch = l.epoch
    suspendedUntil = l.suspendedUntil?.daysSinceEpoch
  }
}

/// A single-pass reader for the licence payloads of the change log: the fields a roadside
/// check needs, straight from the UTF-8 bytes, with the same checks the general decoder
/// makes on them (ID checksum, known classes, status codes and terms, valid dates).
///
/// A full pull is mostly licence changes, and `JSONDecoder` spends about 20 µs on each;
/// this reader takes a small fraction of that. Anything it does not expect (a missing
/// field, an escape it does not handle, a value of another type) makes it return nil,
/// and the caller falls back to `JSONDecoder`, which reports the error precisely.
struct LicencePayloadReader {
  private let bytes: [UInt8]
  private var index = 0

  private init(_ text: String) { bytes = Array(text.utf8) }

  static func read(_ payload: String) -> LicenceRow? {
    var reader = LicencePayloadReader(payload)
    return reader.licence()
  }

  private mutating func licence() -> LicenceRow? {
    var row = LicenceRow()
    var seen = 0
    var classes: [LicenceClass] = []
    var birth: LocalDate?
    var number: CitizenID?
    let ok = object { reader, key in
      switch key {
      case "number":
        guard let text = reader.string(), let id = try? CitizenID(text) else { return false }
        number = id
        row.number = id.value
      case "name":
        guard let text = reader.string() else { return false }
        row.name = text
      case "gender":
        guard let text = reader.string(), text == "male" || text == "female" else { return false }
        row.gender = text == "male" ? 1 : 0
      case "birthDate":
        guard let date = reader.date() else { return false }
        birth = date
        row.birth = date.daysSinceEpoch
      case "firstIssued":
        guard let date = reader.date() else { return false }
        row.firstIssued = date.daysSinceEpoch
      case "classes":
        guard reader.consume(UInt8(ascii: "[")) else { return false }
        if !reader.consume(UInt8(ascii: "]")) {
          repeat {
            guard let code = reader.string(), let cls = LicenceClass(rawValue: code) else {
              return false
            }
            classes.append(cls)
          } while reader.consume(UInt8(ascii: ","))
          guard reader.consume(UInt8(ascii: "]")) else { return false }
        }
      case "validity":
        var from: LocalDate?
        guard
          reader.object({ inner, field in
            switch field {
            case "term":
              guard let text = inner.string(), ValidityTerm(rawValue: text) != nil else {
                return false
              }
              row.term = text
            case "validFrom":
              from = inner.date()
              return from != nil
            default:
              return inner.skipValue()
            }
            return true
          }), let from
        else { return false }
        row.validFrom = from.daysSinceEpoch
      case "authority":
        let read = reader.object { inner, field in
          if field == "code" {
            guard let text = inner.string() else { return false }
            row.authority = text
            return true
          }
          return inner.skipValue()
        }
        guard read else { return false }
      case "status":
        guard let text = reader.string(), let status = try? LicenceStatus(code: text) else {
          return false
        }
        row.status = status.code
      case "epoch":
        guard let value = reader.integer(), value >= 1 else { return false }
        row.epoch = value
      case "suspendedUntil":
        if reader.consumeLiteral("null") {
          row.suspendedUntil = nil
        } else {
          guard let date = reader.date() else { return false }
          row.suspendedUntil = date.daysSinceEpoch
        }
      default:
        return reader.skipValue()
      }
      seen += 1
      return true
    }
    // Every field above must have been present (suspendedUntil may be null, not absent).
    guard ok, seen == 11, index == bytes.count, !classes.isEmpty, !row.term.isEmpty,
      !row.authority.isEmpty,
      let number, birth == number.birthDate
    else { return nil }
    row.classes = Array(Set(classes)).sorted().code
    return row
  }

  // MARK: - Scanning

  private mutating func skipSpace() {
    while index < bytes.count,
      bytes[index] == 32 || bytes[index] == 9 || bytes[index] == 10 || bytes[index] == 13
    {
      index += 1
    }
  }

  private mutating func consume(_ byte: UInt8) -> Bool {
    skipSpace()
    guard index < bytes.count, bytes[index] == byte else { return false }
    index += 1
    return true
  }

  private mutating func consumeLiteral(_ literal: String) -> Bool {
    skipSpace()
    let utf8 = Array(literal.utf8)
    guard index + utf8.count <= bytes.count, Array(bytes[index..<(index + utf8.count)]) == utf8
    else { return false }
    index += utf8.count
    return true
  }

  /// The keys the reader looks for, matched on their bytes without making strings.
  static let keys: [(String, [UInt8])] = [
    "number", "name", "gender", "birthDate", "firstIssued", "classes", "validity", "authority",
    "status",
    "epoch", "suspendedUntil", "term", "validFrom", "code",
  ].map { ($0, Array($0.utf8)) }

  /// `{ "key": value, … }`, calling `field` for each key with the reader at its value; keys
  /// the reader does not look for arrive as "".
  private mutating func object(_ field: (inout LicencePayloadReader, String) -> Bool) -> Bool {
    guard consume(UInt8(ascii: "{")) else { return false }
    if consume(UInt8(ascii: "}")) { return true }
    repeat {
      guard let range = rawString(), consume(UInt8(ascii: ":")) else { return false }
      let key = bytes[range]
      let name =
        LicencePayloadReader.keys.first { $0.1.count == key.count && $0.1.elementsEqual(key) }?.0
        ?? ""
      guard field(&self, name) else { return false }
    } while consume(UInt8(ascii: ","))
    return consume(UInt8(ascii: "}"))
  }

  /// The byte range of a string without escapes.
  private mutating func rawString() -> Range<Int>? {
    guard consume(UInt8(ascii: "\"")) else { return nil }
    let start = index
    while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
      if bytes[index] == UInt8(ascii: "\\") || bytes[index] < 0x20 { return nil }
      index += 1
    }
    guard index < bytes.count else { return nil }
    index += 1
    return start..<(index - 1)
  }

  /// A string without escapes other than `\"`, `\\` and `\/` (what the encoder writes for
  /// these fields); anything else returns nil and the general decoder takes over.
  private mutating func string() -> String? {
    guard consume(UInt8(ascii: "\"")) else { return nil }
    let start = index
    var plain = true
    while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
      if bytes[index] == UInt8(ascii: "\\") {
        plain = false
        guard index + 1 < bytes.count,
          [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/")].contains(bytes[index + 1])
        else { return nil }
        index += 2
      } else {
        if bytes[index] < 0x20 { return nil }
        index += 1
      }
    }
    guard index < bytes.count else { return nil }
    let raw = bytes[start..<index]
    index += 1
    if plain { return String(decoding: raw, as: UTF8.self) }
    var unescaped: [UInt8] = []
    var i = raw.startIndex
    while i < raw.endIndex {
      if raw[i] == UInt8(ascii: "\\") { i += 1 }
      unescaped.append(raw[i])
      i += 1
    }
    return String(decoding: unescaped, as: UTF8.self)
  }

  private mutating func date() -> LocalDate? {
    guard let text = string() else { return nil }
    return LocalDate(iso: text)
  }

  private mutating func integer() -> Int? {
    skipSpace()
    let start = index
    while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
    guard index > start, index - start < 10 else { return nil }
    return bytes[start..<index].reduce(0) { $0 * 10 + Int($1 - 48) }
  }

  /// Skips any JSON value.
  private mutating func skipValue() -> Bool {
    skipSpace()
    guard index < bytes.count else { return false }
    switch bytes[index] {
    case UInt8(ascii: "\""):
      return string() != nil
    case UInt8(ascii: "{"):
      return object { inner, _ in inner.skipValue() }
    case UInt8(ascii: "["):
      index += 1
      if consume(UInt8(ascii: "]")) { return true }
      repeat { guard skipValue() else { return false } } while consume(UInt8(ascii: ","))
      return consume(UInt8(ascii: "]"))
    case UInt8(ascii: "n"): return consumeLiteral("null")
    case UInt8(ascii: "t"): return consumeLiteral("true")
    case UInt8(ascii: "f"): return consumeLiteral("false")
    default:
      let start = index
      while index < bytes.count, "-+.eE0123456789".utf8.contains(bytes[index]) { index += 1 }
      return index > start
    }
  }
}
