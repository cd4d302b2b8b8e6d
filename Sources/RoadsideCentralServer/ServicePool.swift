import Dispatch
public import RoadsideCentral
import Synchronization

/// A node's connections to its store: one ``CentralService`` per connection, each used by
/// one request at a time on a thread of its own.
///
/// The store calls are synchronous (SQLite's C API; ``RoadsidePostgres/PostgresDatabase``
/// waits on its event loop), so they run on the lane's serial queue, never on Swift's
/// cooperative threads: a request waiting for PostgreSQL does not hold up the HTTP server.
///
/// Several lanes on one PostgreSQL database are, to the store, several nodes: each has its
/// own connection and its own transactions, and the locks that keep two nodes apart
/// (``RoadsideCentral/PostgresCentralStore``) keep two lanes apart. A SQLite file has one
/// writer, so it is served by one lane.
final class ServicePool: Sendable {
  /// A connection and the queue it is used on; `service` is touched only on `queue`.
  private final class Lane: @unchecked Sendable {
    let service: CentralService
    let queue: DispatchQueue

    init(_ service: CentralService, index: Int) {
      self.service = service
      self.queue = DispatchQueue(label: "roadside.central.lane.\(index)")
    }
  }

  private struct State {
    var free: [Int]
    var waiting: [CheckedContinuation<Int, Never>] = []
  }

  private let lanes: [Lane]
  private let state: Mutex<State>

  var count: Int { lanes.count }

  init(_ services: sending [CentralService]) {
    precondition(!services.isEmpty, "a node needs at least one connection to its store")
    var lanes: [Lane] = []
    for (index, service) in services.enumerated() { lanes.append(Lane(service, index: index)) }
    self.lanes = lanes
    self.state = Mutex(State(free: Array(lanes.indices.reversed())))
  }

  /// Runs `body` with the first free connection, waiting (first come, first served) while
  /// every one is busy.
  func run<T: Sendable>(_ body: @escaping @Sendable (CentralService) throws -> T) async throws
    -> T
  {
    let index = await acquire()
    defer { release(index) }
    let lane = lanes[index]
    return try await withCheckedThrowingContinuation { continuation in
      lane.queue.async { continuation.resume(with: Result { try body(lane.service) }) }
    }
  }

  private func acquire() async -> Int {
    if let index = state.withLock({ $0.free.popLast() }) { return index }
    return await withCheckedContinuation { continuation in
      let index = state.withLock { state -> Int? in
        if let index = state.free.popLast() { return index }
        state.waiting.append(continuation)
        return nil
      }
      if let index { continuation.resume(returning: index) }
    }
  }

  /// Hands the connection to the longest waiter, or frees it.
  private func release(_ index: Int) {
    let next = state.withLock { state -> CheckedContinuation<Int, Never>? in
      if state.waiting.isEmpty {
        state.free.append(index)
        return nil
      }
      return state.waiting.removeFirst()
    }
    next?.resume(returning: index)
  }
}
