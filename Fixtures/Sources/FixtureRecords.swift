public import RoadsideCredentials
public import RoadsideDomain

/// A vehicle: its plate, the licence class it requires and its owner.
public struct VehicleRecord: Sendable, Hashable, Codable {
  public let plate: Plate
  /// The class a driver needs to drive it (a small car needs C1, an automatic one C2 …).
  public let vehicleClass: LicenceClass
  /// The owner's licence number.
  public let owner: LicenceNumber
  public let model: String
  public let registered: LocalDate

  public init(
    plate: Plate, vehicleClass: LicenceClass, owner: LicenceNumber, model: String,
    registered: LocalDate
  ) {
    self.plate = plate
    self.vehicleClass = vehicleClass
    self.owner = owner
    self.model = model
    self.registered = registered
  }
}

/// A traffic police officer who may use a terminal.
public struct OfficerRecord: Sendable, Hashable, Codable {
  /// The police number (警号): six digits.
  public let id: String
  public let name: String
  public let unit: String
  /// The slow, salted hash of the officer's 6-digit PIN (terminals verify logins with it).
  public let pinHash: PINHash

  public init(id: String, name: String, unit: String, pinHash: PINHash) {
    self.id = id
    self.name = name
    self.unit = unit
    self.pinHash = pinHash
  }

  public func validate() throws(DomainError) {
    guard id.utf8.count == 6, id.utf8.allSatisfy({ (48...57).contains($0) }) else {
      throw DomainError(
        .invalidData, "field \"id\": a police number (警号) is 6 digits, not \"\(id)\"")
    }
    guard !name.isEmpty, !unit.isEmpty else {
      throw DomainError(.invalidData, "fields \"name\" and \"unit\" are required")
    }
  }
}

/// An officer terminal known to the central store.
public struct TerminalRecord: Sendable, Hashable, Codable {
  /// `T-` followed by capital letters, digits and dashes (`T-BJ-0001`).
  public let id: String
  public let unit: String

  public init(id: String, unit: String) {
    self.id = id
    self.unit = unit
  }

  public static func validate(id: String) throws(DomainError) {
    let body = id.utf8.dropFirst(2)
    guard id.hasPrefix("T-"), (3...32).contains(id.utf8.count),
      body.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || $0 == 45 })
    else {
      throw DomainError(
        .invalidData,
        "a terminal id is T- followed by capital letters, digits and dashes (T-BJ-0001), not \"\(id)\""
      )
    }
  }
}

/// A driver's authorisation for the bank to pay fines from an account (委托银行自动划转).
public struct MandateRecord: Sendable, Hashable, Codable {
  public let licence: LicenceNumber
  public let bank: String
  /// The account number (a synthetic card number with a valid Luhn digit).
  public let account: String
  public let authorisedOn: LocalDate
  /// When the driver withdrew the authorisation, if they did.
  public let revokedOn: LocalDate?

  public init(
    licence: LicenceNumber, bank: String, account: String, authorisedOn: LocalDate,
    revokedOn: LocalDate? = nil
  ) {
    self.licence = licence
    self.bank = bank
    self.account = account
    self.authorisedOn = authorisedOn
    self.revokedOn = revokedOn
  }

  public var isActive: Bool { revokedOn == nil }

  public func validate() throws(DomainError) {
    guard (12...19).contains(account.utf8.count),
      account.utf8.allSatisfy({ (48...57).contains($0) })
    else {
      throw DomainError(.invalidData, "field \"account\": an account number is 12 to 19 digits")
    }
    guard MandateRecord.luhnValid(account) else {
      throw DomainError(
        .invalidData, "field \"account\": the account number fails its Luhn check digit")
    }
    if let revokedOn, revokedOn < authorisedOn {
      throw DomainError(
        .invalidData, "field \"revokedOn\": \(revokedOn) is before authorisedOn \(authorisedOn)")
    }
  }

  public static func luhnValid(_ digits: String) -> Bool {
    luhnSum(digits, doubleFirst: false) % 10 == 0
  }

  /// The Luhn sum of `digits`, doubling every second digit from the right, starting with
  /// the rightmost when `doubleFirst`.
  static func luhnSum(_ digits: String, doubleFirst: Bool) -> Int {
    var sum = 0
    var double = doubleFirst
    for byte in digits.utf8.reversed() {
      var d = Int(byte &- 48)
      if double {
        d *= 2
        if d > 9 { d -= 9 }
      }
      sum += d
      double.toggle()
    }
    return sum
  }

  /// Appends the Luhn check digit to `body`.
  public static func withLuhnDigit(_ body: String) -> String {
    body + String((10 - luhnSum(body, doubleFirst: true) % 10) % 10)
  }
}

extension MandateRecord {
  enum CodingKeys: String, CodingKey {
    case licence, bank, account, authorisedOn, revokedOn
  }

  /// Writes `revokedOn` always (`null` while active).
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(licence, forKey: .licence)
    try c.encode(bank, forKey: .bank)
    try c.encode(account, forKey: .account)
    try c.encode(authorisedOn, forKey: .authorisedOn)
    try c.encode(revokedOn, forKey: .revokedOn)
  }
}

/// A penalty decision already on record before the simulation starts; its points enter
/// the ledger when the store is initialised.
public struct DecisionRecord: Sendable, Hashable, Codable {
  /// 18 digits: the deciding authority's 6-digit region code, the year, an 8-digit serial.
  public let number: String
  public let licence: LicenceNumber
  public let plate: Plate?
  public let offence: String
  public let decidedOn: LocalDate
  public let fineYuan: Int
  public let paid: Bool
  public let place: String

  public init(
    number: String, licence: LicenceNumber, plate: Plate?, offence: String, decidedOn: LocalDate,
    fineYuan: Int, paid: Bool, place: String
  ) {
    self.number = number
    self.licence = licence
    self.plate = plate
    self.offence = offence
    self.decidedOn = decidedOn
    self.fineYuan = fineYuan
    self.paid = paid
    self.place = place
  }

  public static func validate(number: String) throws(DomainError) {
    guard number.utf8.count == 18, number.utf8.allSatisfy({ (48...57).contains($0) }) else {
      throw DomainError(
        .invalidData, "a decision number is 18 digits (region, year, serial), not \"\(number)\"")
    }
  }
}

/// One day of the holiday calendar: a public holiday, or a weekend day worked in exchange
/// (调休). Other days follow the week: Monday to Friday work.
public struct CalendarDay: Sendable, Hashable, Codable {
  public let date: LocalDate
  /// `holiday` or `workday`.
  public let kind: String
  public let name: String

  public init(date: LocalDate, kind: String, name: String) {
    self.date = date
    self.kind = kind
    self.name = name
  }

  public func validate() throws(DomainError) {
    guard kind == "holiday" || kind == "workday" else {
      throw DomainError(
        .invalidData,
        "field \"kind\": a calendar day is \"holiday\" or \"workday\", not \"\(kind)\"")
    }
    if kind == "workday", date.weekday <= 5 {
      throw DomainError(
        .invalidData,
        "field \"date\": \(date) is a weekday; only weekend days are listed as workdays")
    }
  }
}

extension Array where Element == CalendarDay {
  /// The calendar these days describe.
  public var workingCalendar: WorkingCalendar {
    WorkingCalendar(
      holidays: Set(filter { $0.kind == "holiday" }.map(\.date)),
      workingWeekendDays: Set(filter { $0.kind == "workday" }.map(\.date)))
  }
}

/// Everything a fixture directory holds, validated.
public struct FixtureSet: Sendable {
  public var licences: [Licence]
  public var vehicles: [VehicleRecord]
  public var officers: [OfficerRecord]
  public var terminals: [TerminalRecord]
  public var mandates: [MandateRecord]
  public var decisions: [DecisionRecord]
  public var calendar: [CalendarDay]

  public init(
    licences: [Licence] = [], vehicles: [VehicleRecord] = [], officers: [OfficerRecord] = [],
    terminals: [TerminalRecord] = [], mandates: [MandateRecord] = [],
    decisions: [DecisionRecord] = [], calendar: [CalendarDay] = []
  ) {
    self.licences = licences
    self.vehicles = vehicles
    self.officers = officers
    self.terminals = terminals
    self.mandates = mandates
    self.decisions = decisions
    self.calendar = calendar
  }

  /// The day the set describes: the latest date any of its records holds (a first issue, a
  /// term's start, a registration, a mandate, a decision). The rules that depend on age and
  /// time are checked on this day; time after it is the running system's business (the
  /// roadside verdict refuses a class the holder has aged out of, 公安部令第162号 §65).
  public var snapshotDate: LocalDate? {
    var dates: [LocalDate] = licences.flatMap { [$0.firstIssued, $0.validity.validFrom] }
    dates += vehicles.map(\.registered)
    dates += mandates.flatMap { [$0.authorisedOn] + ($0.revokedOn.map { [$0] } ?? []) }
    dates += decisions.map(\.decidedOn)
    return dates.max()
  }
}
