public import RoadsideDomain

/// The three outcomes of a roadside check (DESIGN §4).
public enum Outcome: String, Sendable, Codable, CaseIterable {
  case valid = "VALID"
  case invalid = "INVALID"
  /// The terminal could not tell. Never reported as revoked or invalid.
  case undetermined = "UNDETERMINED"
}

/// A stable reason code with its sentence.
public struct Reason: Sendable, Codable, Equatable {
  public let code: String
  public let sentence: String

  public init(_ code: String, _ sentence: String) {
    self.code = code
    self.sentence = sentence
  }
}

/// What the terminal's cache says about the licence (the terminal passes it in).
public struct LicenceFacts: Sendable, Equatable {
  public let number: LicenceNumber
  public let status: LicenceStatus
  public let epoch: Int
  public let validity: Validity
  public let classes: [LicenceClass]
  /// Points in the current scoring cycle.
  public let points: Int

  public init(
    number: LicenceNumber, status: LicenceStatus, epoch: Int, validity: Validity,
    classes: [LicenceClass], points: Int
  ) {
    self.number = number
    self.status = status
    self.epoch = epoch
    self.validity = validity
    self.classes = classes
    self.points = points
  }
}

/// A check's conclusion: outcome, reasons (each with its sentence) and one summary sentence.
public struct Verdict: Sendable, Codable, Equatable {
  public let outcome: Outcome
  public let reasons: [Reason]
  public let sentence: String

  /// The sentence for each way a presentation fails (docs/elicence-format.md).
  public static func reason(for failure: PresentationFailure) -> Reason {
    let sentence: String
    switch failure {
    case .malformed:
      sentence = "the code is not a well-formed e-licence code (forged, damaged or cut off)"
    case .unsupportedVersion:
      sentence = "the code is of a format version this terminal does not accept"
    case .unsupportedHeader:
      sentence = "the code's header has fields that are not allowed (tampered)"
    case .algorithmNotAllowed:
      sentence = "the code names a signature algorithm other than EdDSA (tampered)"
    case .unknownKey:
      sentence =
        "the code is signed with a key this terminal does not trust (forged or unknown issuer key)"
    case .keyRevoked: sentence = "the code is signed with an issuer key that has been revoked"
    case .keyNotValid: sentence = "the code was signed outside the issuer key's validity window"
    case .badIssuerSignature:
      sentence = "the issuer's signature does not verify (forged or tampered)"
    case .badDisclosure: sentence = "the code discloses a claim the issuer did not sign (tampered)"
    case .badDeviceSignature:
      sentence = "the phone's signature does not verify (not the holder's phone)"
    case .wrongCredential: sentence = "the phone signed a different credential than the one shown"
    case .presentationExpired:
      sentence = "the code was displayed too long ago (a screenshot or a recording)"
    case .presentationInFuture:
      sentence = "the code is dated in the future beyond the clock-skew leeway"
    case .replay: sentence = "this exact code was already presented (a replay)"
    case .nonceMismatch: sentence = "the code does not answer this terminal's challenge"
    case .credentialExpired: sentence = "the e-licence itself has expired; the holder must re-apply"
    case .credentialNotYetValid: sentence = "the e-licence is not valid yet"
    }
    return Reason(failure.rawValue, sentence)
  }

  /// How long a synced cache may support status-dependent conclusions (DESIGN §4): 24 h.
  public static let defaultStalenessBudgetSeconds: Int64 = 24 * 3600

  /// Decides a check from the presentation result and what the cache knows.
  ///
  /// - `facts` is nil when the licence is not in the cache (UNDETERMINED, never INVALID);
  /// - a cache older than `stalenessBudgetSeconds` cannot support the status-dependent
  ///   parts (UNDETERMINED), though a failed presentation is still INVALID;
  /// - otherwise every reason found is listed: superseded epoch, status not A, points
  ///   full, licence expired, class not permitted for `vehicle`.
  public static func decide(
    presentation: Result<PresentedCredential, PresentationFailure>, facts: LicenceFacts?,
    cacheAgeSeconds: Int64?,
    stalenessBudgetSeconds: Int64 = defaultStalenessBudgetSeconds, vehicle: LicenceClass?,
    today: LocalDate,
    table: PermittedClassTable = .current
  ) -> Verdict {
    let presented: PresentedCredential
    switch presentation {
    case .failure(let failure):
      let reason = reason(for: failure)
      return Verdict(outcome: .invalid, reasons: [reason], sentence: "INVALID: \(reason.sentence).")
    case .success(let value): presented = value
    }
    guard let number = presented.disclosed[.number] else {
      let reason = Reason(
        "number_not_disclosed",
        "the code does not disclose the licence number a roadside check needs")
      return Verdict(
        outcome: .undetermined, reasons: [reason], sentence: "UNDETERMINED: \(reason.sentence).")
    }
    guard let facts, facts.number.value == number else {
      let reason = Reason(
        "not_in_cache", "the licence is not in this terminal's cache; sync, or check by radio")
      return Verdict(
        outcome: .undetermined, reasons: [reason], sentence: "UNDETERMINED: \(reason.sentence).")
    }
    guard let age = cacheAgeSeconds, age <= stalenessBudgetSeconds else {
      let reason = Reason(
        "cache_stale",
        "the cache is older than \(stalenessBudgetSeconds / 3600) h, so the licence's status cannot be relied on; sync first"
      )
      return Verdict(
        outcome: .undetermined, reasons: [reason], sentence: "UNDETERMINED: \(reason.sentence).")
    }
    if presented.claims.ep > facts.epoch {
      let reason = Reason(
        "cache_behind", "the e-licence is newer than this terminal's cache; sync first")
      return Verdict(
        outcome: .undetermined, reasons: [reason], sentence: "UNDETERMINED: \(reason.sentence).")
    }
    var reasons: [Reason] = []
    if presented.claims.ep < facts.epoch {
      reasons.append(
        Reason(
          "superseded_epoch",
          "the e-licence was superseded (epoch \(presented.claims.ep), now \(facts.epoch)); the holder must re-apply"
        ))
    }
    if !facts.status.permitsDriving {
      reasons.append(
        Reason(
          "status_not_normal",
          "the licence's status is \(facts.status.code) (\(facts.status.english)), not A"))
    }
    if facts.points >= PointsLedger.fullScore {
      reasons.append(
        Reason("points_full", "the licence has \(facts.points) points in the current cycle"))
    }
    if facts.validity.isExpired(on: today) {
      reasons.append(
        Reason(
          "licence_expired",
          "the licence expired on \(facts.validity.validUntil.map(\.description) ?? "?")"))
    }
    if let vehicle, !table.permits(facts.classes, toDrive: vehicle) {
      reasons.append(
        Reason(
          "class_not_permitted",
          "classes \(facts.classes.code) do not permit a \(vehicle.rawValue) (\(vehicle.english)) vehicle"
        ))
    } else if let vehicle, let limit = vehicle.maximumAge,
      !vehicle.ageAllows(birthDate: facts.number.birthDate, on: today)
    {
      reasons.append(
        Reason(
          "age_limit",
          "the holder is \(limit) or older and may no longer drive a \(vehicle.rawValue) (\(vehicle.english)) vehicle (公安部令第162号 §65)"
        ))
    }
    if reasons.isEmpty {
      return Verdict(
        outcome: .valid, reasons: [],
        sentence:
          "VALID: the e-licence is genuine, fresh and current, and permits driving\(vehicle.map { " a \($0.rawValue)" } ?? "")."
      )
    }
    return Verdict(
      outcome: .invalid, reasons: reasons,
      sentence: "INVALID: " + reasons.map(\.sentence).joined(separator: "; ") + ".")
  }
}
