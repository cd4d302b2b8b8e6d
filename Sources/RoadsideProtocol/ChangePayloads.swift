public import RoadsideDomain

// The payloads of the change log: what central writes into an entry and the terminal reads
// back, one type per entity, so that a payload change fails to compile on both sides at
// once. The other entities carry domain or protocol values as they are: `licence`
// (``Licence``), `offence` (``Offence``), `points` (``PointsLedger``), `number_range`
// (``NumberRange``), `calendar` (``WorkingCalendar``), `conflict` (``ConflictReport``),
// `issuer_key` (the credentials' `IssuerKey`), `deduction` (central's `Deduction`, which
// terminals do not apply) and `vehicle` (the fixtures' `VehicleRecord`, read by the terminal
// as plate, class and owner).

/// A terminal as the central store knows it. This is also the `terminal` payload of the
/// change log, so terminals learn of registrations and revocations by pulling.
public struct TerminalState: Sendable, Hashable, Codable {
  public let id: String
  public let unit: String
  public var status: TerminalStatus
  /// The raw Ed25519 public key, base64, once the terminal registered.
  public var publicKey: String?
  public var registeredAt: Timestamp?
  public var revokedAt: Timestamp?

  public init(
    id: String, unit: String, status: TerminalStatus, publicKey: String? = nil,
    registeredAt: Timestamp? = nil, revokedAt: Timestamp? = nil
  ) {
    self.id = id
    self.unit = unit
    self.status = status
    self.publicKey = publicKey
    self.registeredAt = registeredAt
    self.revokedAt = revokedAt
  }

  enum CodingKeys: String, CodingKey {
    case id, unit, status, publicKey, registeredAt, revokedAt
  }

  /// Writes every field, absent ones as `null`.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id, forKey: .id)
    try c.encode(unit, forKey: .unit)
    try c.encode(status, forKey: .status)
    try c.encode(publicKey, forKey: .publicKey)
    try c.encode(registeredAt, forKey: .registeredAt)
    try c.encode(revokedAt, forKey: .revokedAt)
  }
}

/// The `officer` payload of the change log, sent to one terminal of the officer's unit:
/// the PIN verifier is bound to that terminal (``TerminalPINVerifier``).
public struct OfficerNotice: Sendable, Hashable, Codable {
  public let id: String
  public let name: String
  public let unit: String
  /// `pbkdf2-sha256-terminal$…`, absent when no PIN is set.
  public let pinVerifier: String?
  public let pinMustChange: Bool
  public let pinSetAt: Timestamp?
  public let unlockGeneration: Int
  public let lockedAt: Timestamp?
  public let lockedOn: String?

  public init(
    id: String, name: String, unit: String, pinVerifier: String?, pinMustChange: Bool,
    pinSetAt: Timestamp?, unlockGeneration: Int, lockedAt: Timestamp?, lockedOn: String?
  ) {
    self.id = id
    self.name = name
    self.unit = unit
    self.pinVerifier = pinVerifier
    self.pinMustChange = pinMustChange
    self.pinSetAt = pinSetAt
    self.unlockGeneration = unlockGeneration
    self.lockedAt = lockedAt
    self.lockedOn = lockedOn
  }
}

/// A mandate as terminals learn of it: the bank and the account's last four digits, which
/// the recorder shows; the account number itself leaves central only for the bank.
public struct MandateNotice: Sendable, Hashable, Codable {
  public let licence: LicenceNumber
  public let bank: String
  public let accountTail: String
  public let authorisedOn: LocalDate
  public let revokedOn: LocalDate?

  public init(
    licence: LicenceNumber, bank: String, accountTail: String, authorisedOn: LocalDate,
    revokedOn: LocalDate?
  ) {
    self.licence = licence
    self.bank = bank
    self.accountTail = accountTail
    self.authorisedOn = authorisedOn
    self.revokedOn = revokedOn
  }
}

/// A decision as the central store keeps it.
public struct StoredDecision: Sendable, Hashable, Codable {
  public let number: String
  public let licence: LicenceNumber
  public let plate: String?
  public let offence: String
  public let decidedOn: LocalDate
  public let fine: Money
  public let points: Int
  public var paid: Bool
  public let place: String
  public var state: DecisionState

  public init(
    number: String, licence: LicenceNumber, plate: String?, offence: String, decidedOn: LocalDate,
    fine: Money, points: Int, paid: Bool, place: String, state: DecisionState
  ) {
    self.number = number
    self.licence = licence
    self.plate = plate
    self.offence = offence
    self.decidedOn = decidedOn
    self.fine = fine
    self.points = points
    self.paid = paid
    self.place = place
    self.state = state
  }
}

extension StoredDecision {
  enum CodingKeys: String, CodingKey {
    case number, licence, plate, offence, decidedOn, fine, points, paid, place, state
  }

  /// Writes `plate` always (`null` when unknown).
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(number, forKey: .number)
    try c.encode(licence, forKey: .licence)
    try c.encode(plate, forKey: .plate)
    try c.encode(offence, forKey: .offence)
    try c.encode(decidedOn, forKey: .decidedOn)
    try c.encode(fine, forKey: .fine)
    try c.encode(points, forKey: .points)
    try c.encode(paid, forKey: .paid)
    try c.encode(place, forKey: .place)
    try c.encode(state, forKey: .state)
  }
}

/// A violation as central keeps it until the penalty capability decides it.
public struct StoredViolation: Sendable, Equatable, Codable {
  public let recordID: String
  public let terminal: String
  public let violation: ViolationRecord
  public let state: ViolationState

  public init(
    recordID: String, terminal: String, violation: ViolationRecord, state: ViolationState
  ) {
    self.recordID = recordID
    self.terminal = terminal
    self.violation = violation
    self.state = state
  }
}
