import Foundation
public import RoadsideBank
public import RoadsideCentral
public import RoadsideDomain
public import RoadsideFixtures
public import RoadsideHolder
public import RoadsideProtocol
public import RoadsideStorage

/// The one place that assembles a world's home from a fixture set: the central store, the
/// holders' phones and the bank with an account for every mandate. `central init`, the
/// scenario world (scenarios, drills, the demo, the simulation) and, through `central init`,
/// the crash harness all build their homes here.
public enum WorldAssembly {
  /// The seed of the holders' phones: every home gets the same phones, whatever the seed of
  /// a scenario or a simulation, so that a phone's code is the same in all of them.
  public static let phoneSeed: UInt64 = 2026

  /// What was assembled.
  public struct Assembled {
    public let central: CentralService
    public let phones: HolderFixtures.Summary
  }

  /// Creates the central store (at `store`, else the home's SQLite file) and the phones in
  /// `layout`, and the bank unless one is there. With `bankClientSecret`, the bank accepts
  /// central's signed HTTP requests with it, and the secret is written to
  /// `layout.bankSecret` (0600) for central's home to take.
  public static func assemble(
    _ layout: HomeLayout, store: CentralStoreLocation? = nil, fixtures: FixtureSet,
    source: String, clock: any Clock,
    issuerKeySeed: [UInt8], numbersPerRange: Int = NumberRange.standardSize,
    minimumPINIterations: Int = OfficerRules.chosenPINIterations,
    bankClientSecret: [UInt8]? = nil
  ) throws -> Assembled {
    let central = try CentralService.initialise(
      store ?? .file(layout.centralStore.path), fixtures: fixtures, source: source, clock: clock,
      issuerKeySeed: issuerKeySeed, numbersPerRange: numbersPerRange,
      minimumPINIterations: minimumPINIterations)
    let phones = try HolderFixtures.provision(central: central, home: layout.home, seed: phoneSeed)
    if !FileManager.default.fileExists(atPath: layout.bankStore.path) {
      _ = try createBank(
        layout, mandates: fixtures.mandates, clientSecret: bankClientSecret, at: clock.now())
    }
    return Assembled(central: central, phones: phones)
  }

  /// Creates the bank of `layout` with an account for every mandate (`bank init` alone, or
  /// as part of ``assemble(_:store:fixtures:source:clock:issuerKeySeed:numbersPerRange:minimumPINIterations:bankClientSecret:)``).
  public static func createBank(
    _ layout: HomeLayout, mandates: [MandateRecord], clientSecret: [UInt8]?, at now: Timestamp
  ) throws -> BankStore {
    let store = try BankStore.create(
      path: layout.bankStore.path,
      mandates: mandates.map {
        (licence: $0.licence.value, bank: $0.bank, account: $0.account, revoked: !$0.isActive)
      })
    if let clientSecret {
      try store.addClient(BankEndpoint.localClient, secret: clientSecret, at: now)
      try PrivateFiles.write(
        Data((Data(clientSecret).base64EncodedString() + "\n").utf8),
        toPath: layout.bankSecret.path)
    }
    return store
  }
}
