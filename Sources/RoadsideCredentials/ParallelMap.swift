import Dispatch
import Foundation
import Synchronization

/// Maps CPU-bound work (signing, deriving keys) over every core, keeping the order of its
/// input: the result is the same array a sequential `map` gives, so a batch stays
/// deterministic whatever the machine. The first error thrown (in input order among those
/// thrown) is rethrown once every chunk has finished.
public enum ParallelMap {
  /// Below this many items a batch is mapped on the calling thread: handing work to other
  /// threads costs more than a few signatures.
  public static let sequentialBelow = 64

  public static func map<T: Sendable, U: Sendable>(
    _ items: [T], _ transform: @Sendable (T) throws -> U
  ) throws -> [U] {
    try map(items, prepare: {}, { _, item in try transform(item) })
  }

  /// As ``map(_:_:)``, with a context each thread makes once with `prepare` and passes to
  /// `transform` for each of its items: a signing key, which is not `Sendable` and costs a
  /// scalar multiplication to make.
  public static func map<T: Sendable, U: Sendable, Context>(
    _ items: [T], prepare: @Sendable () throws -> Context,
    _ transform: @Sendable (Context, T) throws -> U
  ) throws -> [U] {
    guard items.count >= sequentialBelow else {
      let context = try prepare()
      return try items.map { try transform(context, $0) }
    }
    let chunks = min(items.count / (sequentialBelow / 2), 4 * activeProcessors)
    let results = Mutex([[U]?](repeating: nil, count: chunks))
    let failures = Mutex([(chunk: Int, error: any Error)]())
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      let range = bounds(of: chunk, among: chunks, count: items.count)
      do {
        let context = try prepare()
        var mapped: [U] = []
        mapped.reserveCapacity(range.count)
        for index in range { mapped.append(try transform(context, items[index])) }
        let done = mapped
        results.withLock { $0[chunk] = done }
      } catch {
        failures.withLock { $0.append((chunk, error)) }
      }
    }
    if let first = failures.withLock({ $0.min { $0.chunk < $1.chunk } }) { throw first.error }
    return results.withLock { chunks in chunks.flatMap { $0 ?? [] } }
  }

  static var activeProcessors: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

  /// Chunk `chunk` of `chunks` near-equal consecutive ranges covering `0..<count`.
  static func bounds(of chunk: Int, among chunks: Int, count: Int) -> Range<Int> {
    (chunk * count / chunks)..<((chunk + 1) * count / chunks)
  }
}
