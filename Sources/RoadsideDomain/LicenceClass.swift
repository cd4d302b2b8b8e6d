/// A permitted vehicle class (准驾车型) of 公安部令第162号, annex 1.
public enum LicenceClass: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
  case a1 = "A1"
  case a2 = "A2"
  case a3 = "A3"
  case b1 = "B1"
  case b2 = "B2"
  case c1 = "C1"
  case c2 = "C2"
  case c3 = "C3"
  case c4 = "C4"
  case c5 = "C5"
  case c6 = "C6"
  case d = "D"
  case e = "E"
  case f = "F"
  case m = "M"
  case n = "N"
  case p = "P"

  public var chinese: String {
    switch self {
    case .a1: "大型客车"
    case .a2: "重型牵引挂车"
    case .a3: "城市公交车"
    case .b1: "中型客车"
    case .b2: "大型货车"
    case .c1: "小型汽车"
    case .c2: "小型自动挡汽车"
    case .c3: "低速载货汽车"
    case .c4: "三轮汽车"
    case .c5: "残疾人专用小型自动挡载客汽车"
    case .c6: "轻型牵引挂车"
    case .d: "普通三轮摩托车"
    case .e: "普通二轮摩托车"
    case .f: "轻便摩托车"
    case .m: "轮式专用机械车"
    case .n: "无轨电车"
    case .p: "有轨电车"
    }
  }

  public var english: String {
    switch self {
    case .a1: "large bus"
    case .a2: "heavy tractor-trailer"
    case .a3: "city bus"
    case .b1: "medium bus"
    case .b2: "large truck"
    case .c1: "small car"
    case .c2: "small automatic car"
    case .c3: "low-speed truck"
    case .c4: "three-wheeled car"
    case .c5: "adapted automatic car for the disabled"
    case .c6: "light tractor-trailer"
    case .d: "three-wheeled motorcycle"
    case .e: "two-wheeled motorcycle"
    case .f: "moped"
    case .m: "wheeled special machinery"
    case .n: "trolleybus"
    case .p: "tram"
    }
  }

  /// Drivers of these classes study 30 days instead of 7 after reaching 12 points
  /// (公安部令第163号 §18: 大型客车、重型牵引挂车、城市公交车、中型客车、大型货车).
  public var isHeavy: Bool { [.a1, .a2, .a3, .b1, .b2].contains(self) }

  public static func < (lhs: LicenceClass, rhs: LicenceClass) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }

  /// Parses one class code (`C1`, case-insensitive).
  public init(code: some StringProtocol) throws(DomainError) {
    guard let value = LicenceClass(rawValue: code.uppercased()) else {
      throw .invalid(
        "unknown licence class \"\(code)\"; valid classes are \(LicenceClass.allCases.map(\.rawValue).joined(separator: " "))"
      )
    }
    self = value
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    do {
      try self.init(code: text)
    } catch {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }

  /// Parses a class list as printed on a licence (`C1D`, `A2E`) or separated by commas or
  /// spaces (`C1,D`). The result is sorted and free of repeats.
  public static func parseList(_ text: some StringProtocol) throws(DomainError) -> [LicenceClass] {
    if let printed = parsePrinted(text.utf8) { return printed }
    var result: Set<LicenceClass> = []
    var chars = Array(text.uppercased())[...]
    while let first = chars.first {
      if first == "," || first == " " || first == "/" {
        chars = chars.dropFirst()
        continue
      }
      if chars.count >= 2, let two = LicenceClass(rawValue: String(chars.prefix(2))) {
        result.insert(two)
        chars = chars.dropFirst(2)
      } else if let one = LicenceClass(rawValue: String(first)),
        chars.count == 1 || !chars.dropFirst().first!.isNumber
      {
        result.insert(one)
        chars = chars.dropFirst()
      } else {
        let token = chars.prefix { $0 != "," && $0 != " " && $0 != "/" }.prefix(2)
        throw .invalid(
          "unknown licence class \"\(String(token))\"; valid classes are \(LicenceClass.allCases.map(\.rawValue).joined(separator: " "))"
        )
      }
    }
    guard !result.isEmpty else {
      throw .invalid("no licence class given; name at least one, such as C1")
    }
    return result.sorted()
  }

  /// Classes by their two code bytes (the digit byte 0 for one-letter classes).
  private static let byCode: [UInt16: LicenceClass] = Dictionary(
    uniqueKeysWithValues: allCases.map { value in
      let bytes = Array(value.rawValue.utf8)
      return (UInt16(bytes[0]) << 8 | UInt16(bytes.count > 1 ? bytes[1] : 0), value)
    })

  /// The fast path for the printed form caches and payloads carry (`C1E`, upper case, sorted,
  /// no separators): nil for anything else, which the general parser then reads or explains.
  private static func parsePrinted(_ bytes: some Collection<UInt8>) -> [LicenceClass]? {
    var result: [LicenceClass] = []
    var iterator = bytes.makeIterator()
    var pending = iterator.next()
    while let letter = pending {
      guard letter >= UInt8(ascii: "A"), letter <= UInt8(ascii: "Z") else { return nil }
      let next = iterator.next()
      if let digit = next, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") {
        guard let two = byCode[UInt16(letter) << 8 | UInt16(digit)] else { return nil }
        result.append(two)
        pending = iterator.next()
      } else {
        guard let one = byCode[UInt16(letter) << 8] else { return nil }
        result.append(one)
        pending = next
      }
      if result.count > 1, result[result.count - 2] >= result[result.count - 1] { return nil }
    }
    return result.isEmpty ? nil : result
  }
}

extension Array where Element == LicenceClass {
  /// `C1D`, as printed on a licence.
  public var code: String { map(\.rawValue).joined() }
}

/// Which vehicle classes a licence class also permits: the table of
/// 公安部令第162号 annex 1 ("准驾的其他准驾车型"), kept as versioned data.
///
/// A new edition of the regulation becomes a new table value with its own version;
/// records keep the version they were checked against.
public struct PermittedClassTable: Sendable, Equatable {
  public let version: String
  public let source: String
  /// For each class, the further classes it permits (not including itself).
  public let alsoPermits: [LicenceClass: Set<LicenceClass>]

  public init(version: String, source: String, alsoPermits: [LicenceClass: Set<LicenceClass>]) {
    self.version = version
    self.source = source
    self.alsoPermits = alsoPermits
  }

  /// The table in force since 2022-04-01 (公安部令第162号, 2021-12-17, annex 1).
  public static let gb162of2021 = PermittedClassTable(
    version: "MPS-162-2021",
    source: "机动车驾驶证申领和使用规定(公安部令第162号) 附件1 准驾车型及代号",
    alsoPermits: [
      .a1: [.a3, .b1, .b2, .c1, .c2, .c3, .c4, .m],
      .a2: [.b1, .b2, .c1, .c2, .c3, .c4, .c6, .m],
      .a3: [.c1, .c2, .c3, .c4],
      .b1: [.c1, .c2, .c3, .c4, .m],
      .b2: [.c1, .c2, .c3, .c4, .m],
      .c1: [.c2, .c3, .c4],
      .c2: [],
      .c3: [.c4],
      .c4: [],
      .c5: [],
      .c6: [],
      .d: [.e, .f],
      .e: [.f],
      .f: [],
      .m: [],
      .n: [],
      .p: [],
    ])

  /// The current table.
  public static let current = gb162of2021

  /// Every class a licence holding `held` may drive.
  public func permitted(by held: some Sequence<LicenceClass>) -> Set<LicenceClass> {
    var result: Set<LicenceClass> = []
    for cls in held {
      result.insert(cls)
      result.formUnion(alsoPermits[cls] ?? [])
    }
    return result
  }

  /// May a licence holding `held` drive a vehicle that requires `vehicle`?
  public func permits(_ held: some Sequence<LicenceClass>, toDrive vehicle: LicenceClass) -> Bool {
    permitted(by: held).contains(vehicle)
  }
}

extension LicenceClass {
  /// The age from which a holder may no longer drive this class (公安部令第162号 §65): from 60
  /// no 大型客车 A1, 重型牵引挂车 A2, 城市公交车 A3, 中型客车 B1, 大型货车 B2, 轮式专用机械车 M,
  /// 无轨电车 N or 有轨电车 P; from 70 no 低速载货汽车 C3, 三轮汽车 C4, 轻型牵引挂车 C6,
  /// 普通三轮摩托车 D or 普通二轮摩托车 E. Nil: no age limit.
  public var maximumAge: Int? {
    switch self {
    case .a1, .a2, .a3, .b1, .b2, .m, .n, .p: 60
    case .c3, .c4, .c6, .d, .e: 70
    default: nil
    }
  }

  /// Whether a holder born on `birthDate` may drive this class on `date` by age (§65).
  public func ageAllows(birthDate: LocalDate, on date: LocalDate) -> Bool {
    guard let limit = maximumAge else { return true }
    return birthDate.adding(years: limit) > date
  }
}
