import Synchronization

/// Where "now" comes from. The domain and every library take a clock as an argument;
/// only the `roadside` executable constructs one that reads the system time, so that
/// scripts (`--now`), scenarios and tests fix time exactly.
public protocol Clock: Sendable {
  func now() -> Timestamp
}

/// A clock stopped at one instant.
public struct FixedClock: Clock {
  public let instant: Timestamp
  public init(_ instant: Timestamp) { self.instant = instant }
  public func now() -> Timestamp { instant }
}

/// A source of random bits. Libraries take one as an argument and never seed their own
/// from the system; the executable decides (seeded for scripts, system entropy otherwise).
public protocol RandomSource: Sendable {
  mutating func next() -> UInt64
}

extension RandomSource {
  /// A uniform integer in `range`, without modulo bias.
  public mutating func int(in range: ClosedRange<Int>) -> Int {
    let span = UInt64(range.upperBound - range.lowerBound) &+ 1
    if span == 0 { return Int(bitPattern: UInt(next())) }
    let limit = UInt64.max - UInt64.max % span
    var value = next()
    while value >= limit { value = next() }
    return range.lowerBound + Int(value % span)
  }

  public mutating func int(in range: Range<Int>) -> Int {
    int(in: range.lowerBound...(range.upperBound - 1))
  }

  /// `true` with probability `percent` / 100.
  public mutating func chance(percent: Int) -> Bool { int(in: 0..<100) < percent }

  public mutating func element<C: RandomAccessCollection>(of collection: C) -> C.Element
  where C.Index == Int {
    collection[collection.startIndex + int(in: 0..<collection.count)]
  }
}

/// A deterministic generator (SplitMix64): the same seed gives the same sequence on every
/// machine and Swift version, which `SystemRandomNumberGenerator` and Swift's own
/// seeded hashing do not promise.
public struct SeededRandom: RandomSource, RandomNumberGenerator {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Where record ids (UUIDs) come from. Terminals generate one for every record they make;
/// the executable uses system randomness, scenarios a seeded source, so that the same
/// script gives the same ids.
public protocol IdentifierSource: Sendable {
  /// A random (version 4) UUID in canonical lower-case form.
  func nextUUID() -> String
}

/// Seeded UUIDs: the same seed gives the same sequence.
public final class SeededIdentifiers: IdentifierSource {
  private let random: Mutex<SeededRandom>

  public init(seed: UInt64) { random = Mutex(SeededRandom(seed: seed)) }

  public func nextUUID() -> String {
    let (a, b) = random.withLock { ($0.next(), $0.next()) }
    return formatUUID(high: a, low: b)
  }
}

/// Formats 128 bits as a version 4, variant 1 UUID.
public func formatUUID(high: UInt64, low: UInt64) -> String {
  let h = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
  let l = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
  func hex(_ value: UInt64, _ digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
  }
  return
    "\(hex(h >> 32, 8))-\(hex((h >> 16) & 0xFFFF, 4))-\(hex(h & 0xFFFF, 4))-\(hex(l >> 48, 4))-\(hex(l & 0xFFFF_FFFF_FFFF, 12))"
}
