public import Foundation
public import RoadsideCentral
import RoadsideDomain

/// Gives a new central store's drivers their e-licences and phones, so that a check, a demo
/// or a scenario can start at once: of the normal licences with a photo, about 85 % hold an
/// issued e-licence, about 5 % have an application under review, and a few (licences renewed
/// or re-classed since, epoch ≥ 2) hold a superseded one that must be re-applied for.
public enum HolderFixtures {
  public struct Summary: Sendable, Equatable {
    public var issued = 0
    public var pending = 0
    public var superseded = 0
  }

  /// Deterministic for a seed: the same seed gives the same phones and choices.
  public static func provision(central: CentralService, home: URL, seed: UInt64) throws -> Summary {
    var random = SeededRandom(seed: seed)
    func bytes(_ count: Int) -> [UInt8] {
      (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }
    let today = central.clock.now().chinaDate
    var summary = Summary()
    for row in try central.licences(LicenceFilter(status: .normal)) {
      let licence = try central.dossier(row.number).licence
      guard licence.photo != nil, !licence.isExpired(on: today) else { continue }
      let roll = random.int(in: 0..<100)
      guard roll < 90 else { continue }
      var phone = HolderPhone(licence: licence.number, deviceKey: bytes(32))
      let key = try phone.devicePublicKey
      if roll < 5 {
        _ = try central.applyForELicence(licence.number, devicePublicKey: key)
        summary.pending += 1
      } else {
        let superseded = roll < 12 && licence.epoch >= 2
        _ = try central.issueCredential(
          licence.number, devicePublicKey: key, epoch: superseded ? licence.epoch - 1 : nil,
          salt: { bytes(12) })
        if superseded { summary.superseded += 1 } else { summary.issued += 1 }
        phone.elicence = try central.issuedELicence(licence.number, devicePublicKey: key)
      }
      try phone.save(home: home)
    }
    return summary
  }
}
