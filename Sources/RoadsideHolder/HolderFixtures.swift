public import Foundation
public import RoadsideCentral
import RoadsideCredentials
import RoadsideDomain
import RoadsideStorage

/// Gives a new central store's drivers their e-licences and phones, so that a check, a demo
/// or a scenario can start at once: of the normal licences with a photo, about 85 % hold an
/// issued e-licence, about 5 % have an application under review, and a few (licences renewed
/// or re-classed since, epoch ≥ 2) hold a superseded one that must be re-applied for.
///
/// Linear in the number of licences: one query reads them, phones are issued and applied
/// for in batches of ``batchSize`` (one transaction each, the signing on every core), and
/// the phone files are written without a flush each and flushed once at the end
/// (`syncfs`), so that `central init` of a million licences is minutes, not hours.
public enum HolderFixtures {
  public struct Summary: Sendable, Equatable {
    public var issued = 0
    public var pending = 0
    public var superseded = 0
  }

  /// Phones per transaction.
  public static let batchSize = 4_096

  /// Deterministic for a seed: the same seed gives the same phones and choices, drawn in
  /// the order of the licence numbers (a batch draws exactly what one phone at a time
  /// would, so the phones do not depend on ``batchSize``).
  public static func provision(central: CentralService, home: URL, seed: UInt64) throws -> Summary {
    var random = SeededRandom(seed: seed)
    func bytes(_ count: Int) -> [UInt8] {
      (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }
    let today = central.clock.now().chinaDate
    var summary = Summary()
    var planned: [PlannedPhone] = []
    planned.reserveCapacity(batchSize)
    for licence in try central.licenceRecords(LicenceFilter(status: .normal)) {
      guard licence.photo != nil, !licence.isExpired(on: today) else { continue }
      let roll = random.int(in: 0..<100)
      guard roll < 90 else { continue }
      let deviceKey = bytes(32)
      if roll < 5 {
        planned.append(PlannedPhone(licence: licence.number, deviceKey: deviceKey, kind: .pending))
        summary.pending += 1
      } else {
        let superseded = roll < 12 && licence.epoch >= 2
        // The salts of the credential's ten claims, drawn now as issuing one would.
        let salts = (0..<CredentialIssuer.saltsPerCredential).map { _ in bytes(12) }
        planned.append(
          PlannedPhone(
            licence: licence.number, deviceKey: deviceKey,
            kind: .issued(epoch: superseded ? licence.epoch - 1 : nil, salts: salts)))
        if superseded { summary.superseded += 1 } else { summary.issued += 1 }
      }
      if planned.count == batchSize {
        try provision(planned, central: central, home: home)
        planned.removeAll(keepingCapacity: true)
      }
    }
    try provision(planned, central: central, home: home)
    try PrivateFiles.synchronizeFileSystem(containing: home.path)
    return summary
  }

  /// One phone to make, its random draws taken.
  private struct PlannedPhone: Sendable {
    enum Kind: Sendable {
      case pending
      case issued(epoch: Int?, salts: [[UInt8]])
    }
    let licence: LicenceNumber
    let deviceKey: [UInt8]
    let kind: Kind
  }

  private static func provision(_ batch: [PlannedPhone], central: CentralService, home: URL)
    throws
  {
    guard !batch.isEmpty else { return }
    let publicKeys = try ParallelMap.map(batch) {
      try HolderPhone(licence: $0.licence, deviceKey: $0.deviceKey).devicePublicKey
    }
    var applications: [CredentialRequest] = []
    var issues: [CredentialRequest] = []
    var salts: [[UInt8]] = []
    for (phone, key) in zip(batch, publicKeys) {
      switch phone.kind {
      case .pending:
        applications.append(CredentialRequest(phone.licence, devicePublicKey: key))
      case .issued(let epoch, let drawn):
        issues.append(CredentialRequest(phone.licence, devicePublicKey: key, epoch: epoch))
        salts += drawn
      }
    }
    if !applications.isEmpty { _ = try central.applyForELicences(applications) }
    var nextSalt = salts.makeIterator()
    var issued =
      try central.issueCredentials(issues, salt: { nextSalt.next() ?? [] }).makeIterator()
    var phones: [HolderPhone] = []
    phones.reserveCapacity(batch.count)
    for phone in batch {
      var made = HolderPhone(licence: phone.licence, deviceKey: phone.deviceKey)
      if case .issued = phone.kind { made.elicence = issued.next() }
      phones.append(made)
    }
    let files = try ParallelMap.map(phones) { try $0.encoded() }
    for (phone, data) in zip(phones, files) {
      try HolderPhone.write(data, licence: phone.licence, home: home, durable: false)
    }
  }
}
