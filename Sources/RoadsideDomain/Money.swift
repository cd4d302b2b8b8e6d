/// An amount of renminbi in fen (分), the smallest unit, so that surcharges of 3 % a day
/// stay exact.
public struct Money: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  public let fen: Int64

  public init(fen: Int64) { self.fen = fen }
  public init(yuan: Int) { self.fen = Int64(yuan) * 100 }

  public static let zero = Money(fen: 0)

  public static func + (lhs: Money, rhs: Money) -> Money { Money(fen: lhs.fen + rhs.fen) }
  public static func < (lhs: Money, rhs: Money) -> Bool { lhs.fen < rhs.fen }

  /// `200.00`.
  public var description: String {
    let sign = fen < 0 ? "-" : ""
    let magnitude = fen.magnitude
    return "\(sign)\(magnitude / 100).\(pad(Int(magnitude % 100), 2))"
  }

  /// `200.00 元`.
  public var yuanText: String { "\(description) 元" }
}
