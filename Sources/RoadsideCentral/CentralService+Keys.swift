import Crypto
import Foundation
public import RoadsideCredentials
public import RoadsideDomain
import RoadsideProtocol

extension CentralService {
  /// The key ring (public parts).
  public func issuerKeys() throws -> [IssuerKey] { try store.read { try $0.issuerKeys() } }

  /// Starts a new signing key from 32 random bytes (`seed`), valid for `validDays` from
  /// now. The key that was active is retired: it signs nothing more, and keeps verifying
  /// what it signed while valid (its window ends now). Both changes enter the change log.
  public func rotateIssuerKey(kid: String, seed: [UInt8], validDays: Int = 3 * 365, reason: String?)
    throws
    -> IssuerKey
  {
    guard IssuerKey.isValidKid(kid) else {
      throw DomainError(
        .invalidData, "a key id is 1 to 32 letters, digits and dashes, not \"\(kid)\"")
    }
    guard (1...3650).contains(validDays) else {
      throw DomainError(.invalidData, "a key is valid for 1 to 3650 days, not \(validDays)")
    }
    let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    let now = clock.now()
    return try store.write { tx in
      let ring = try tx.issuerKeys()
      if ring.contains(where: { $0.kid == kid }) {
        throw CentralError(
          .refused(.keyExists), "issuer key \(kid) exists already; choose a new key id")
      }
      for old in ring where old.state == .active {
        let retired = IssuerKey(
          kid: old.kid, publicKey: old.publicKey, validFrom: old.validFrom, validUntil: now,
          state: .retired)
        try tx.update(retired)
        try tx.append(
          NewChange(entity: .issuerKey, key: old.kid, payload: try CanonicalJSON.string(retired)),
          at: now,
          action: "key.retire", reason: "rotated to \(kid)")
      }
      let key = IssuerKey(
        kid: kid, publicKey: [UInt8](privateKey.publicKey.rawRepresentation), validFrom: now,
        validUntil: now.adding(seconds: Int64(validDays) * 86_400), state: .active)
      try tx.insert(key, privateKey: [UInt8](privateKey.rawRepresentation))
      try tx.append(
        NewChange(entity: .issuerKey, key: kid, payload: try CanonicalJSON.string(key)), at: now,
        action: "key.rotate",
        reason: reason)
      return key
    }
  }

  /// Retires a key: it signs nothing more; what it signed while valid still verifies.
  public func retireIssuerKey(_ kid: String, reason: String?) throws -> IssuerKey {
    try changeIssuerKey(kid, action: "key.retire", reason: reason) { key, now in
      guard key.state == .active else {
        throw CentralError(
          .refused(.keyNotActive), "issuer key \(kid) is \(key.state), not active")
      }
      return IssuerKey(
        kid: key.kid, publicKey: key.publicKey, validFrom: key.validFrom, validUntil: now,
        state: .retired)
    }
  }

  /// Revokes a key (compromised): nothing it signed verifies any more.
  public func revokeIssuerKey(_ kid: String, reason: String?) throws -> IssuerKey {
    try changeIssuerKey(kid, action: "key.revoke", reason: reason) { key, _ in
      guard key.state != .revoked else {
        throw CentralError(.refused(.keyRevoked), "issuer key \(kid) is already revoked")
      }
      return IssuerKey(
        kid: key.kid, publicKey: key.publicKey, validFrom: key.validFrom,
        validUntil: key.validUntil, state: .revoked)
    }
  }

  private func changeIssuerKey(
    _ kid: String, action: String, reason: String?,
    _ change: (IssuerKey, Timestamp) throws -> IssuerKey
  ) throws -> IssuerKey {
    let now = clock.now()
    return try store.write { tx in
      guard let key = try tx.issuerKeys().first(where: { $0.kid == kid }) else {
        throw CentralError(
          .notFound, "no issuer key \(kid); list the ring with 'roadside central keys list'")
      }
      let changed = try change(key, now)
      try tx.update(changed)
      try tx.append(
        NewChange(entity: .issuerKey, key: kid, payload: try CanonicalJSON.string(changed)),
        at: now,
        action: action,
        reason: reason)
      return changed
    }
  }
}

extension CentralService {
  /// How long an e-licence credential is valid: to the end of the licence's validity, and
  /// at most three years (then the holder's phone renews it).
  public static let credentialYears = 3

  /// Signs an e-licence credential for the licence's current epoch, bound to the phone's
  /// public key, with the active issuer key; records it. Refused while the licence is
  /// withheld, suspended or overdue for a medical, has ended, or has no photo on file
  /// (DESIGN §1). `salt` gives 12 random bytes per claim.
  ///
  /// The application and its one-working-day review build on this.
  ///
  /// `epoch` overrides the licence's current epoch only to make the superseded e-licences of
  /// fixtures (an e-licence from before the licence's last renewal or class change).
  public func issueCredential(
    _ number: LicenceNumber, devicePublicKey: [UInt8], epoch: Int? = nil, salt: () -> [UInt8]
  ) throws -> Credential {
    try issueCredentials(
      [CredentialRequest(number, devicePublicKey: devicePublicKey, epoch: epoch)], salt: salt)[0]
      .credential
  }

  /// Signs and records the e-licences of `requests` in one transaction, whole or not at all
  /// (the first refusal refuses the batch), as ``issueCredential(_:devicePublicKey:epoch:salt:)``
  /// signs one: what provisions a world's phones, where one transaction per phone would
  /// spend its time committing. `salt` is drawn in the order of `requests`, ten times each;
  /// the signing then runs on every core (``ParallelMap``), so a batch gives exactly the
  /// credentials the same requests issued one by one would.
  public func issueCredentials(_ requests: [CredentialRequest], salt: () -> [UInt8]) throws
    -> [IssuedELicence]
  {
    guard !requests.isEmpty else { return [] }
    let now = clock.now()
    return try store.write { tx in
      var checked: [(licence: Licence, request: CredentialRequest, expires: Timestamp)] = []
      checked.reserveCapacity(requests.count)
      for request in requests {
        let licence = try issuable(
          request, refusedAs: "an e-licence cannot be issued", at: now, in: tx)
        var expires = now.adding(seconds: Int64(CentralService.credentialYears) * 365 * 86_400)
        if let until = licence.validity.validUntil {
          expires = min(expires, Timestamp(startOf: until.adding(days: 1)).adding(seconds: -1))
        }
        checked.append((licence, request, expires))
      }
      guard let key = try tx.issuerKeys().first(where: { $0.state == .active }),
        let secret = try tx.issuerPrivateKey(key.kid)
      else {
        throw CentralError(
          .refused(.noActiveKey),
          "no active issuer key; start one with 'roadside central keys rotate'")
      }
      // A key signs only inside its window: a credential signed outside it would be refused
      // by every terminal (key_not_valid), so issuance waits for a key that may sign now.
      guard key.validFrom <= now, now <= key.validUntil else {
        throw CentralError(
          .refused(.noActiveKey),
          "the active issuer key \(key.kid) may sign from \(key.validFrom) until \(key.validUntil), not at \(now); start another with 'roadside central keys rotate'"
        )
      }
      _ = try Curve25519.Signing.PrivateKey(rawRepresentation: secret)  // refuse a bad key here
      let kid = key.kid
      let unsigned = checked.map { item in
        UnsignedCredential(
          licence: item.licence, epoch: item.request.epoch ?? item.licence.epoch,
          devicePublicKey: item.request.devicePublicKey, expires: item.expires,
          salts: (0..<CredentialIssuer.saltsPerCredential).map { _ in salt() })
      }
      let credentials = try ParallelMap.map(
        unsigned, prepare: { try Curve25519.Signing.PrivateKey(rawRepresentation: secret) }
      ) { issuerKey, item in
        var salts = item.salts.makeIterator()
        return try CredentialIssuer.issue(
          licence: item.licence, epoch: item.epoch, devicePublicKey: item.devicePublicKey,
          kid: kid, issuerKey: issuerKey, issuedAt: now, expires: item.expires,
          salt: { salts.next() ?? [] })
      }
      var issued: [IssuedELicence] = []
      issued.reserveCapacity(credentials.count)
      for (item, credential) in zip(unsigned, credentials) {
        try tx.insertELicence(
          licence: item.licence.number, epoch: item.epoch, kid: kid,
          deviceKey: item.devicePublicKey, issuedAt: now, expiresAt: item.expires,
          credential: credential)
        issued.append(
          IssuedELicence(
            credential: credential, epoch: item.epoch, kid: kid, issuedAt: now,
            expiresAt: item.expires))
      }
      return issued
    }
  }
}

/// One e-licence to issue or apply for (``CentralService/issueCredentials(_:salt:)``,
/// ``CentralService/applyForELicences(_:)``).
public struct CredentialRequest: Sendable {
  public let licence: LicenceNumber
  public let devicePublicKey: [UInt8]
  /// Overrides the licence's current epoch, only to make the superseded e-licences of
  /// fixtures.
  public let epoch: Int?

  public init(_ licence: LicenceNumber, devicePublicKey: [UInt8], epoch: Int? = nil) {
    self.licence = licence
    self.devicePublicKey = devicePublicKey
    self.epoch = epoch
  }
}

/// A credential checked and ready to sign, its salts drawn.
private struct UnsignedCredential: Sendable {
  let licence: Licence
  let epoch: Int
  let devicePublicKey: [UInt8]
  let expires: Timestamp
  let salts: [[UInt8]]
}
