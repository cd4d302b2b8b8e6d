/// A citizen identity number (公民身份号码), GB 11643-1999: a 6-digit address code, the
/// 8-digit birth date, a 3-digit sequence (odd for men, even for women) and an
/// ISO 7064 MOD 11-2 check character (`X` stands for 10).
///
/// Under 公安部令第162号 the driving licence number is the holder's citizen ID number,
/// so this type is also the licence number. A lower-case `x` is accepted and stored as `X`.
public struct CitizenID: Sendable, Hashable, Comparable, CheckedText, CustomStringConvertible {
  public let value: String

  /// Province-level codes that open a valid address code (GB/T 2260, plus 71 Taiwan,
  /// 81 Hong Kong, 82 Macao and 83 for Taiwan residents' residence permits).
  public static let provinceCodes: Set<Int> = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
  ]

  static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  static let checkCharacters: [Character] = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"]

  /// The check character GB 11643 assigns to the first 17 digits.
  public static func checkCharacter(for first17: some Collection<UInt8>) -> Character {
    var sum = 0
    var index = 0
    for byte in first17 where index < 17 {
      sum += Int(byte &- UInt8(ascii: "0")) * weights[index]
      index += 1
    }
    return checkCharacters[sum % 11]
  }

  /// Validates `text`. The error names what is wrong without repeating the number.
  public init(_ text: some StringProtocol) throws(DomainError) {
    var bytes = Array(text.utf8)
    guard text.count == 18, bytes.count == 18 else {
      throw .invalid(
        "a licence number is the holder's 18-character citizen ID number, but \(text.count) characters were given"
      )
    }
    if bytes[17] == UInt8(ascii: "x") { bytes[17] = UInt8(ascii: "X") }
    for (offset, byte) in bytes.prefix(17).enumerated()
    where !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
      throw .invalid(
        "character \(offset + 1) of the licence number is not a digit; only the 18th may be X")
    }
    guard
      (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[17]) || bytes[17] == UInt8(ascii: "X")
    else {
      throw .invalid("the 18th character of the licence number must be a digit or X")
    }
    guard let province = digits(bytes[0..<2]), CitizenID.provinceCodes.contains(province) else {
      throw .invalid(
        "the licence number starts with \(String(decoding: bytes[0..<2], as: UTF8.self)), which is no province code of GB/T 2260"
      )
    }
    guard LocalDate(compact: bytes[6..<14]) != nil else {
      throw .invalid("characters 7–14 of the licence number are not a valid birth date (YYYYMMDD)")
    }
    let expected = CitizenID.checkCharacter(for: bytes.prefix(17))
    let given = Character(Unicode.Scalar(bytes[17]))
    guard given == expected else {
      throw .invalid(
        "the licence number's check character is \(given) but GB 11643 gives \(expected) for the first 17 digits; check the number for a typo"
      )
    }
    value = String(decoding: bytes, as: UTF8.self)
  }

  /// Builds a valid number from its parts, computing the check character.
  public static func make(region: Int, birthDate: LocalDate, sequence: Int) -> CitizenID {
    let first17 =
      pad(region, 6) + pad(birthDate.year, 4) + pad(birthDate.month, 2) + pad(birthDate.day, 2)
      + pad(sequence, 3)
    let check = checkCharacter(for: Array(first17.utf8))
    return CitizenID(valid: first17 + String(check))
  }

  /// A value already known to be valid (built by `make`).
  private init(valid: String) { value = valid }

  public var birthDate: LocalDate { LocalDate(compact: Array(value.utf8)[6..<14])! }

  /// The sequence's parity: odd for men, even for women.
  public var gender: Gender {
    let digit = Int(Array(value.utf8)[16] - UInt8(ascii: "0"))
    return digit % 2 == 1 ? .male : .female
  }

  /// The six-digit address code of the holder's first registration.
  public var regionCode: Int { digits(Array(value.utf8)[0..<6])! }

  /// The number with its middle masked (`110105********0012`) for screens and logs.
  public var masked: String {
    let chars = Array(value)
    return String(chars[0..<6]) + "********" + String(chars[14..<18])
  }

  public var description: String { value }
  public var checkedText: String { value }
  public init(checkedText text: String) throws(DomainError) { try self.init(text) }

  public static func < (lhs: CitizenID, rhs: CitizenID) -> Bool { lhs.value < rhs.value }

}

/// The driving licence number is the citizen ID number (公安部令第162号).
public typealias LicenceNumber = CitizenID

public enum Gender: String, Sendable, Codable, CaseIterable {
  case male
  case female

  public var chinese: String { self == .male ? "男" : "女" }
}

/// The licence's 12-digit file number (档案编号), kept by the vehicle administration office.
public struct FileNumber: Sendable, Hashable, CheckedText, CustomStringConvertible {
  public let value: String

  public init(_ text: some StringProtocol) throws(DomainError) {
    guard text.utf8.count == 12, text.utf8.allSatisfy({ (48...57).contains($0) }) else {
      throw .invalid("a licence file number (档案编号) is 12 digits, but \"\(text)\" was given")
    }
    value = String(text)
  }

  public var description: String { value }
  public var checkedText: String { value }
  public init(checkedText text: String) throws(DomainError) { try self.init(text) }

}

/// A motor-vehicle number plate (GA 36-2018): a province abbreviation, the issuing
/// authority's letter, then a serial.
///
/// - ordinary (`京A12345`, `京AB123C`): five characters of digits and letters other than
///   I and O, at most two of them letters (four plus 学, 挂 or 警 for coach, trailer
///   and police plates);
/// - small new-energy (`京AD12345`): D (battery electric) or F (other new energy), one
///   digit or letter, four digits;
/// - large new-energy (`京A12345D`): five digits, then D or F.
public struct Plate: Sendable, Hashable, CheckedText, CustomStringConvertible {
  public enum Kind: String, Sendable, Codable {
    case ordinary
    case coach
    case trailer
    case police
    case newEnergySmall = "new-energy-small"
    case newEnergyLarge = "new-energy-large"
  }

  public static let provinces: [Character] = Array("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")

  public let value: String
  public let kind: Kind

  public init(_ text: some StringProtocol) throws(DomainError) {
    let chars = Array(text.uppercased().filter { $0 != " " && $0 != "·" && $0 != "-" })
    guard let first = chars.first, Plate.provinces.contains(first) else {
      throw .invalid(
        "a plate starts with a province abbreviation such as 京 or 沪, but \"\(text)\" does not")
    }
    guard chars.count >= 2, Plate.isSerialLetter(chars[1]) else {
      throw .invalid(
        "the second character of plate \"\(text)\" must be the issuing authority's letter (A–Z, not I or O)"
      )
    }
    let serial = Array(chars.dropFirst(2))
    if let kind = Plate.classify(serial) {
      self.kind = kind
      self.value = String(chars)
    } else {
      throw .invalid(
        "plate \"\(text)\" is neither an ordinary plate (京A12345) nor a new-energy plate (京AD12345 or 京A12345D)"
      )
    }
  }

  static func isSerialLetter(_ c: Character) -> Bool {
    c.isASCII && c.isUppercase && c != "I" && c != "O"
  }

  static func isSerialCharacter(_ c: Character) -> Bool {
    c.isASCII && c.isNumber || isSerialLetter(c)
  }

  static func classify(_ serial: [Character]) -> Kind? {
    let isDigit = { (c: Character) in c.isASCII && c.isNumber }
    switch serial.count {
    case 5:
      let suffixes: [Character: Kind] = ["学": .coach, "挂": .trailer, "警": .police]
      if let kind = suffixes[serial[4]] {
        return serial.prefix(4).allSatisfy(isSerialCharacter)
          && serial.prefix(4).filter(isSerialLetter).count <= 2 ? kind : nil
      }
      guard serial.allSatisfy(isSerialCharacter), serial.filter(isSerialLetter).count <= 2
      else { return nil }
      return .ordinary
    case 6:
      if serial[0] == "D" || serial[0] == "F", isSerialCharacter(serial[1]),
        serial[2...].allSatisfy(isDigit)
      {
        return .newEnergySmall
      }
      if serial.prefix(5).allSatisfy(isDigit), serial[5] == "D" || serial[5] == "F" {
        return .newEnergyLarge
      }
      return nil
    default:
      return nil
    }
  }

  public var description: String { value }
  public var checkedText: String { value }
  public init(checkedText text: String) throws(DomainError) { try self.init(text) }

}
