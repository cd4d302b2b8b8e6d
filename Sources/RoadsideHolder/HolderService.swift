public import Foundation
public import RoadsideCentral
public import RoadsideCredentials
public import RoadsideDomain

/// What a holder does with their phone — apply for an e-licence, fetch what central issued,
/// show the code, look at the screen — written once for the CLI (`roadside holder`), the
/// scenario runner and the simulation. The randomness a phone draws (its device key, the
/// salts of reviews it completes, presentation ids) comes from `bytes`: the system's random
/// source in the CLI, a seed in simulated worlds.
///
/// The phone reaches central in-process, through ``CentralService`` (every part of a home
/// shares its central store); a phone over the network is not simulated.
public struct HolderService {
  public let home: URL
  public let central: CentralService
  let bytes: (Int) -> [UInt8]

  public init(home: URL, central: CentralService, bytes: @escaping (Int) -> [UInt8]) {
    self.home = home
    self.central = central
    self.bytes = bytes
  }

  /// Applies for an e-licence bound to the holder's phone (a new phone when they have none).
  /// A phone that holds an e-licence of the current epoch keeps showing it during the
  /// review (it still verifies); a superseded one says "re-apply" until the new one is
  /// issued.
  public func apply(_ number: LicenceNumber) throws -> ELicenceApplication {
    let phone =
      try HolderPhone.load(home: home, licence: number)
      ?? HolderPhone(licence: number, deviceKey: bytes(32))
    let application = try central.applyForELicence(
      number, devicePublicKey: try phone.devicePublicKey)
    try phone.save(home: home)
    return application
  }

  /// The holder's phone with the newest e-licence central issued to it (due reviews
  /// completed first), saved when `save`; nil when the holder has no phone.
  public func refreshedPhone(_ number: LicenceNumber, save: Bool = true) throws -> HolderPhone? {
    guard var phone = try HolderPhone.load(home: home, licence: number) else { return nil }
    try phone.refresh(from: central, salt: { bytes(12) })
    if save { try phone.save(home: home) }
    return phone
  }

  /// The code the refreshed phone shows at `time` (nil: no e-licence issued yet), with the
  /// phone; nil when the holder has no phone.
  public func present(
    _ number: LicenceNumber, at time: Timestamp, disclose: [ClaimName] = ClaimName.allCases,
    nonce: String? = nil
  ) throws -> (phone: HolderPhone, code: String?)? {
    guard let phone = try refreshedPhone(number) else { return nil }
    return (
      phone,
      try phone.present(
        at: time, disclose: disclose, presentationID: bytes(12), nonce: nonce)
    )
  }

  /// What the phone's screen shows at `time`.
  public func screen(_ phone: HolderPhone, at time: Timestamp, code: String?) throws
    -> PhoneScreen
  {
    PhoneScreen.render(
      phone: phone, dossier: try central.dossier(phone.licence), at: time, code: code)
  }
}
