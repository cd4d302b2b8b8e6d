import Foundation
public import RoadsideCredentials
public import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideStorage

/// An application for an e-licence and where it stands.
public struct ELicenceApplication: Sendable, Codable, Equatable {
  public let id: Int
  public let licence: LicenceNumber
  public let appliedAt: Timestamp
  /// When the one-working-day review completes.
  public let readyAt: Timestamp
  public let state: ApplicationState
  public let reason: String?
}

/// Where an e-licence application stands.
public enum ApplicationState: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  /// In its one-working-day review.
  case pending
  case issued
  /// Refused, with the reason.
  case refused
}

/// An issued e-licence in central's register.
public enum RegisterState: String, Sendable, Hashable, Codable, CaseIterable, SpeltByRawValue {
  case current
  /// A newer e-licence of the same epoch was issued, usually to a new phone; the old one
  /// still verifies until it expires or the epoch ends, as a paper licence reissued with the
  /// same data would.
  case replaced
  /// A newer epoch started (renewal, class or validity change): nothing of the old epoch
  /// verifies and the holder must re-apply.
  case superseded
  case expired
}

/// An issued e-licence as the holder's phone fetches it.
public struct IssuedELicence: Sendable, Codable, Equatable {
  public let credential: Credential
  public let epoch: Int
  public let kid: String
  public let issuedAt: Timestamp
  public let expiresAt: Timestamp
}

/// One issued e-licence as central's register lists it.
public struct ELicenceRegisterEntry: Sendable, Codable, Equatable {
  public let id: Int
  public let licence: LicenceNumber
  public let epoch: Int
  public let kid: String
  public let issuedAt: Timestamp
  public let expiresAt: Timestamp
  public let state: RegisterState
}

extension CentralService {
  /// The holiday calendar stored at init.
  public func workingCalendar() throws -> WorkingCalendar { try store.read { try $0.calendar() } }

  /// Applies for an e-licence for `number`, bound to the phone's public key. The review
  /// completes one working day later (weekends and the holiday calendar do not count);
  /// the application is refused at once, with the reason, when the licence could not be
  /// issued an e-licence now.
  public func applyForELicence(_ number: LicenceNumber, devicePublicKey: [UInt8]) throws
    -> ELicenceApplication
  {
    try applyForELicences([CredentialRequest(number, devicePublicKey: devicePublicKey)])[0]
  }

  /// Applies for the e-licences of `requests` in one transaction, whole or not at all (the
  /// first refusal refuses the batch), as ``applyForELicence(_:devicePublicKey:)`` applies
  /// for one. A request's `epoch` is ignored: a review issues for the current one.
  public func applyForELicences(_ requests: [CredentialRequest]) throws -> [ELicenceApplication] {
    guard !requests.isEmpty else { return [] }
    let now = clock.now()
    let calendar = try workingCalendar()
    let readyAt = calendar.oneWorkingDayAfter(now)
    return try store.write { tx in
      try requests.map { request in
        _ = try issuable(request, refusedAs: "the application is refused", at: now, in: tx)
        if try tx.pendingApplication(request.licence) != nil {
          throw CentralError(
            .refused(.applicationPending),
            "an application for this licence is already under review")
        }
        return try tx.insertApplication(
          request.licence, deviceKey: request.devicePublicKey, appliedAt: now, readyAt: readyAt)
      }
    }
  }

  /// Completes every review that is due by now: issues the e-licence, or refuses it when the
  /// licence changed during the review. While no issuer key is active, due reviews wait.
  /// Returns the applications it completed.
  public func completeDueReviews(salt: () -> [UInt8]) throws -> [ELicenceApplication] {
    let now = clock.now()
    var completed: [ELicenceApplication] = []
    for (application, deviceKey) in try store.read({ try $0.dueApplications(at: now) }) {
      do {
        _ = try issueCredential(application.licence, devicePublicKey: deviceKey, salt: salt)
        completed.append(
          try store.write {
            try $0.completeApplication(application.id, state: .issued, reason: nil)
          })
      } catch let error as CentralError where error.kind == .refused(.noActiveKey) {
        // Nothing can be signed until a key is active: the review waits, it is not refused.
        continue
      } catch let error as DomainError {
        completed.append(
          try store.write {
            try $0.completeApplication(application.id, state: .refused, reason: error.description)
          })
      }
    }
    return completed
  }

  /// The applications of a licence, newest first.
  public func applications(_ number: LicenceNumber) throws -> [ELicenceApplication] {
    try store.read { try $0.applications(number) }
  }

  /// Applications across all licences, newest first, optionally only those in `state`.
  public func applications(state: ApplicationState?, limit: Int) throws -> [ELicenceApplication] {
    try store.read { try $0.applications(state: state, limit: limit) }
  }

  /// The e-licences issued for `number`, newest first, each with where it stands now.
  public func issuedELicences(_ number: LicenceNumber) throws -> [ELicenceRegisterEntry] {
    let now = clock.now()
    return try store.read { tx in
      try tx.issuedELicences(
        number, currentEpoch: try requireLicence(number, in: tx).epoch, at: now)
    }
  }

  /// The newest e-licence issued for `number` to the phone with `devicePublicKey`.
  public func issuedELicence(_ number: LicenceNumber, devicePublicKey: [UInt8]) throws
    -> IssuedELicence?
  {
    try store.read { try $0.latestELicence(number, deviceKey: devicePublicKey) }
  }

  /// The licence of `request` once it may have an e-licence now and the phone's key is an
  /// Ed25519 key; else the refusal, after `refusedAs`.
  func issuable(
    _ request: CredentialRequest, refusedAs: String, at now: Timestamp,
    in tx: any CentralReading
  ) throws -> Licence {
    let licence = try requireLicence(request.licence, in: tx)
    if let refusal = CentralService.issuanceRefusal(licence, on: now.chinaDate) {
      throw DomainError(.notPermitted, "\(refusedAs): \(refusal)")
    }
    guard request.devicePublicKey.count == 32 else {
      throw DomainError(
        .invalidData, "a phone's public key is 32 bytes, not \(request.devicePublicKey.count)")
    }
    return licence
  }

  /// Why an e-licence cannot be issued for `licence` on `date`, or nil.
  static func issuanceRefusal(_ licence: Licence, on date: LocalDate) -> String? {
    if licence.status.isTerminal {
      return
        "the licence has status \(licence.status.code) and is no longer in force, so it cannot have an e-licence"
    }
    if licence.status.contains(.withheld) {
      return "the licence is withheld (U); apply again once it is returned"
    }
    if licence.status.contains(.suspended) {
      return "the licence is suspended (D); apply again once the suspension ends"
    }
    if licence.status.contains(.overdueMedical) {
      return "the licence is overdue for a medical (R); apply again once the medical is recorded"
    }
    if licence.photo == nil {
      return
        "no photo is on file; the holder must have one taken at a vehicle administration office"
    }
    if licence.isExpired(on: date) { return "the licence has expired; renew it first" }
    return nil
  }
}
