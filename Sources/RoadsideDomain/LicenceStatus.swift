/// A licence status code (驾驶证状态), as the vehicle administration system records it.
public enum StatusCode: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
  case normal = "A"
  case pointsFull = "B"
  case transferredOut = "C"
  case suspended = "D"
  case cancelledByFraud = "E"
  case revoked = "F"
  case deregistered = "G"
  case violationUnprocessed = "H"
  case accidentUnprocessed = "I"
  case stoppedUse = "J"
  case cancelledByAgreement = "K"
  case overdueRenewal = "M"
  case renewalDeferred = "N"
  case medicalDeferred = "P"
  case overdueMedical = "R"
  case overdueReview = "S"
  case withheld = "U"
  case other = "Z"

  public var chinese: String {
    switch self {
    case .normal: "正常"
    case .pointsFull: "超分"
    case .transferredOut: "转出"
    case .suspended: "暂扣"
    case .cancelledByFraud: "撤销"
    case .revoked: "吊销"
    case .deregistered: "注销"
    case .violationUnprocessed: "违法未处理"
    case .accidentUnprocessed: "事故未处理"
    case .stoppedUse: "停止使用"
    case .cancelledByAgreement: "协议注销"
    case .overdueRenewal: "逾期未换证"
    case .renewalDeferred: "延期换证"
    case .medicalDeferred: "延期体检"
    case .overdueMedical: "逾期未体检"
    case .overdueReview: "逾期未审验"
    case .withheld: "扣留"
    case .other: "其他"
    }
  }

  public var english: String {
    switch self {
    case .normal: "normal"
    case .pointsFull: "12 points reached"
    case .transferredOut: "transferred out"
    case .suspended: "suspended"
    case .cancelledByFraud: "cancelled (obtained improperly)"
    case .revoked: "revoked"
    case .deregistered: "deregistered"
    case .violationUnprocessed: "violation not processed"
    case .accidentUnprocessed: "accident not processed"
    case .stoppedUse: "use stopped"
    case .cancelledByAgreement: "cancelled by agreement"
    case .overdueRenewal: "overdue for renewal"
    case .renewalDeferred: "renewal deferred"
    case .medicalDeferred: "medical deferred"
    case .overdueMedical: "overdue for medical"
    case .overdueReview: "overdue for review"
    case .withheld: "withheld"
    case .other: "other"
    }
  }

  /// Codes after which the licence no longer exists as a driving permission; they end
  /// the licence, and administrative changes other than reinstatement are refused.
  public var isTerminal: Bool {
    [.transferredOut, .cancelledByFraud, .revoked, .deregistered, .cancelledByAgreement]
      .contains(self)
  }

  public static func < (lhs: StatusCode, rhs: StatusCode) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The set of status codes on a licence. A licence may carry several codes at once
/// (`DH`: suspended with a violation unprocessed); `A` (normal) stands alone and is the
/// only status that permits driving. Adding any other code removes `A`; removing the
/// last other code restores it.
public struct LicenceStatus: Sendable, Hashable, CheckedText, CustomStringConvertible {
  public private(set) var codes: Set<StatusCode>

  public static let normal = LicenceStatus(codes: [.normal])

  public init(codes: Set<StatusCode>) {
    let others = codes.subtracting([.normal])
    self.codes = others.isEmpty ? [.normal] : others
  }

  /// Parses `A`, `DH`, `D,H`.
  public init(code text: some StringProtocol) throws(DomainError) {
    // The common case, one upper-case code such as `A` or `D`, without the general parse.
    if text.utf8.count == 1, let code = StatusCode(rawValue: String(text)) {
      self.init(codes: [code])
      return
    }
    var codes: Set<StatusCode> = []
    for char in text.uppercased() where char != "," && char != " " {
      guard let code = StatusCode(rawValue: String(char)) else {
        throw .invalid(
          "unknown licence status code \"\(char)\"; valid codes are \(StatusCode.allCases.map(\.rawValue).joined(separator: " "))"
        )
      }
      codes.insert(code)
    }
    guard !codes.isEmpty else {
      throw .invalid("a licence status needs at least one code, such as A")
    }
    if codes.contains(.normal) && codes.count > 1 {
      throw .invalid("status A (normal) cannot be combined with other codes")
    }
    self.init(codes: codes)
  }

  /// Only `A` permits driving.
  public var permitsDriving: Bool { codes == [.normal] }

  public func contains(_ code: StatusCode) -> Bool { codes.contains(code) }

  public var isTerminal: Bool { codes.contains(where: \.isTerminal) }

  public func adding(_ code: StatusCode) -> LicenceStatus {
    LicenceStatus(codes: codes.union([code]))
  }

  public func removing(_ code: StatusCode) -> LicenceStatus {
    LicenceStatus(codes: codes.subtracting([code]))
  }

  /// Sorted codes, concatenated: `A`, `DH`.
  public var code: String { codes.sorted().map(\.rawValue).joined() }

  public var description: String { code }
  public var checkedText: String { code }
  public init(checkedText text: String) throws(DomainError) { try self.init(code: text) }

  /// `暂扣 违法未处理`.
  public var chinese: String { codes.sorted().map(\.chinese).joined(separator: " ") }

  public var english: String { codes.sorted().map(\.english).joined(separator: ", ") }

}
