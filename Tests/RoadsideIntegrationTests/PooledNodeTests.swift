import Foundation
import RoadsideDomain
import RoadsidePostgres
import RoadsideProtocol
import RoadsideStorage
import RoadsideTerminal
import Synchronization
import Testing

@testable import RoadsideCentral
@testable import RoadsideCentralServer

/// One central node with several connections to PostgreSQL (``ServicePool``): requests run
/// at once on different connections, and the store's locks keep them apart as they keep
/// two nodes apart.
@Suite(.enabled(if: TestPostgres.available, "needs ROADSIDE_TEST_POSTGRES_URL"), .serialized)
struct PooledNodeTests {
  /// Three requests that each wait until all three are inside the store: a pool that ran
  /// them one at a time would never let the first one finish.
  @Test func aNodeOfThreeConnectionsRunsThreeRequestsAtOnce() async throws {
    let world = try World(store: .postgresql(try TestPostgres.freshDatabase("pool_width")))
    let node = try CentralEndpoint(location: world.location, clock: world.clock, connections: 3)
    #expect(node.connections == 3)
    let arrived = Arrivals()
    let results = try await withThrowingTaskGroup(of: Int64?.self) { group in
      for _ in 0..<3 {
        group.addTask {
          try await node.pool.run { service -> Int64? in
            arrived.count.withLock { $0 += 1 }
            let deadline = Date().addingTimeInterval(30)
            while arrived.count.withLock({ $0 }) < 3 {
              guard Date() < deadline else { return nil }
              Thread.sleep(forTimeInterval: 0.001)
            }
            // Each lane has a connection of its own: its backend's process id.
            let store = try #require(service.store as? PostgresCentralStore)
            return try store.db.fetchOne("SELECT pg_backend_pid()") { $0.int64(0) }
          }
        }
      }
      return try await group.reduce(into: [Int64?]()) { $0.append($1) }
    }
    #expect(!results.contains(nil), "all three requests were inside the store at once")
    #expect(Set(results.compactMap { $0 }).count == 3, "each on its own connection")
  }

  /// The same event from two terminals, sent to one node of several connections at the
  /// same instant, round after round: held once, the other a `duplicate_event` conflict.
  @Test func theSameEventAtOnceOnOneNodeOfSeveralConnectionsIsHeldOnce() async throws {
    let races = MultiNodeTests()
    let (world, one, two, toA, toB, observer, _, local) = try await races.world("pool_duplicate")
    // The world's own endpoint: one node, with the default connections to PostgreSQL.
    let node = local.endpoint
    #expect(node.connections == CentralEndpoint.defaultPostgresConnections)
    #expect(node.connections > 1)
    for round in 0..<MultiNodeTests.rounds {
      let (licence, plate) = cleanDrivers[round]
      try one.recordViolation(licence: licence, plate: plate, offenceCode: "0601", place: "东单")
      try two.recordViolation(licence: licence, plate: plate, offenceCode: "0601", place: "东单")
      _ = try? await one.push(transport: toA, attempts: 1)
      _ = try? await two.push(transport: toB, attempts: 1)
      let (a, signedA) = (toA.batches.last!, toA.signed.withLock { $0.last! })
      let (b, signedB) = (toB.batches.last!, toB.signed.withLock { $0.last! })
      async let first = node.push(a, signed: signedA)
      async let second = node.push(b, signed: signedB)
      let (ra, rb) = try await (first, second)
      let outcomes = (races.violations(ra, of: a) + races.violations(rb, of: b))
        .map { $0.outcome.rawValue }.sorted()
      #expect(outcomes == ["accepted", "conflict"], "round \(round)")
      let conflicts = try observer.service.conflicts().filter { $0.licence == licence.value }
      #expect(conflicts.map(\.kind) == [.duplicateEvent], "round \(round)")
      try await races.settle(one, two, through: local)
      world.clock.advance(seconds: 60)
    }
  }
}

/// How many requests have reached the store.
final class Arrivals: Sendable {
  let count = Mutex(0)
}
