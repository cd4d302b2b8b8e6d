import Crypto
public import Foundation
public import RoadsideCentral
public import RoadsideCredentials
public import RoadsideDomain
import RoadsideStorage

/// The holder's simulated phone: the device key generated on it, and the e-licence central
/// issued to it. Kept as one JSON file under the home (`holders/<licence>.json`,
/// readable by its owner only).
public struct HolderPhone: Codable, Sendable {
  public let licence: LicenceNumber
  public let deviceKey: [UInt8]
  public var elicence: IssuedELicence?

  public init(licence: LicenceNumber, deviceKey: [UInt8], elicence: IssuedELicence? = nil) {
    self.licence = licence
    self.deviceKey = deviceKey
    self.elicence = elicence
  }

  public var devicePublicKey: [UInt8] {
    get throws {
      [UInt8](
        try Curve25519.Signing.PrivateKey(rawRepresentation: deviceKey).publicKey.rawRepresentation)
    }
  }

  public static func url(home: URL, licence: LicenceNumber) -> URL {
    HomeLayout(home: home).phone(licence: licence.value)
  }

  public static func load(home: URL, licence: LicenceNumber) throws -> HolderPhone? {
    let layout = HomeLayout(home: home)
    var url = layout.phone(licence: licence.value)
    if !FileManager.default.fileExists(atPath: url.path) {
      url = layout.legacyPhone(licence: licence.value)
      guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    }
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw CentralError(.unusableStore, "the phone file \(url.path) cannot be read")
    }
    do {
      return try JSONDecoder().decode(HolderPhone.self, from: data)
    } catch {
      throw CentralError(
        .unusableStore,
        "the phone file \(url.path) is damaged (not a Roadside phone's JSON); restore it, or delete it and apply again with 'roadside holder apply'"
      )
    }
  }

  /// Writes the phone's file; `durable: false` leaves the flush to the caller
  /// (``PrivateFiles/synchronizeFileSystem(containing:)``), as provisioning a world does.
  public func save(home: URL, durable: Bool = true) throws {
    try HolderPhone.write(try encoded(), licence: licence, home: home, durable: durable)
  }

  /// The phone file's bytes.
  public func encoded() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }

  /// Writes a phone file's bytes (``encoded()``) and removes the file of the old layout if
  /// one is left.
  public static func write(_ data: Data, licence: LicenceNumber, home: URL, durable: Bool)
    throws
  {
    let layout = HomeLayout(home: home)
    try PrivateFiles.createDirectory(atPath: layout.holdersDirectory.path)
    try PrivateFiles.write(
      data, toPath: layout.phone(licence: licence.value).path, durable: durable)
    let legacy = layout.legacyPhone(licence: licence.value)
    if FileManager.default.fileExists(atPath: legacy.path) {
      try? FileManager.default.removeItem(at: legacy.deletingLastPathComponent())
    }
  }

  /// Fetches the newest e-licence central issued to this phone, completing due reviews.
  public mutating func refresh(from central: CentralService, salt: () -> [UInt8]) throws {
    _ = try central.completeDueReviews(salt: salt)
    if let issued = try central.issuedELicence(licence, devicePublicKey: try devicePublicKey) {
      elicence = issued
    }
  }

  /// The code to display now.
  public func present(
    at time: Timestamp, disclose: [ClaimName], presentationID: [UInt8], nonce: String?
  ) throws
    -> String?
  {
    guard let elicence else { return nil }
    return try CredentialPresenter.present(
      elicence.credential, disclose: disclose,
      deviceKey: try Curve25519.Signing.PrivateKey(rawRepresentation: deviceKey),
      at: time, presentationID: presentationID, nonce: nonce)
  }
}

/// What the phone's screen shows (DESIGN §1: black when the licence is normal, red when not).
public struct PhoneScreen: Codable, Sendable, Equatable {
  public let name: String
  public let licence: String
  public let classes: String
  public let validity: String
  public let status: String
  public let points: Int
  public let time: Timestamp
  /// `black` when the licence permits driving and is below 12 points, else `red`.
  public let colour: String
  /// The e-licence was superseded by a newer epoch (renewal, class change …): re-apply.
  public let reapply: Bool
  /// The code, or nil when no e-licence is issued yet.
  public let code: String?

  public static func render(
    phone: HolderPhone, dossier: LicenceDossier, at time: Timestamp, code: String?
  ) -> PhoneScreen {
    let l = dossier.licence
    let normal = dossier.permitsDriving && dossier.points.total < PointsLedger.fullScore
    return PhoneScreen(
      name: l.name, licence: l.number.value, classes: l.classes.code, validity: l.validity.display,
      status: "\(l.status.code) \(l.status.chinese)", points: dossier.points.total, time: time,
      colour: normal ? "black" : "red", reapply: (phone.elicence?.epoch ?? l.epoch) < l.epoch,
      code: code)
  }
}
