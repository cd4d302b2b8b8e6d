import Foundation
import Synchronization

/// A token bucket per terminal: `burst` requests at once, refilled at `perSecond`, on the
/// process's monotonic clock. Central answers a terminal that runs dry `429 rate_limited`.
/// One per `central serve` process; nodes do not share buckets.
public final class RateLimiter: Sendable {
  public let burst: Double
  public let perSecond: Double
  private let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])

  /// 200 requests at once (a cache of 100,000 licences is about 100 pulls), then 10 a second:
  /// what `central serve` uses unless told otherwise (`--rate-limit`).
  public static let standard = RateLimiter(burst: 200, perSecond: 10)

  public init(burst: Double, perSecond: Double) {
    self.burst = burst
    self.perSecond = perSecond
  }

  /// Takes one token for `terminal`, or returns the seconds until one is there.
  public func admit(_ terminal: String, now: ContinuousClock.Instant = .now) -> Int? {
    buckets.withLock { buckets in
      var bucket = buckets[terminal] ?? (tokens: burst, at: now)
      let elapsed = now - bucket.at
      let seconds =
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      bucket.tokens = min(burst, bucket.tokens + seconds * perSecond)
      bucket.at = now
      defer { buckets[terminal] = bucket }
      guard bucket.tokens >= 1 else {
        return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up)))
      }
      bucket.tokens -= 1
      return nil
    }
  }
}
