import Foundation
import RoadsideCentral
import RoadsidePostgres
import RoadsideProtocol
import Synchronization
import Testing

/// The PostgreSQL server of the tests: `ROADSIDE_TEST_POSTGRES_URL` (`.ci/run` and
/// `scripts/postgres.sh start` provide one). Without it the PostgreSQL tests are skipped.
enum TestPostgres {
  static let url: PostgresURL? = {
    guard let text = ProcessInfo.processInfo.environment["ROADSIDE_TEST_POSTGRES_URL"],
      !text.isEmpty
    else { return nil }
    return try? PostgresURL(text)
  }()

  static var available: Bool { url != nil }

  /// A new, empty database on the test server, named after `label`.
  static func freshDatabase(_ label: String) throws -> PostgresURL {
    let server = try #require(url, "ROADSIDE_TEST_POSTGRES_URL is not set")
    let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    return try server.creatingDatabase("roadside_\(label)_\(suffix)")
  }
}

/// A transport that keeps the batch a terminal pushes instead of sending it: what lets a
/// test hand signed batches to two central nodes at the same moment. It fails the push
/// (the records stay pending), or with `acknowledging` answers every record accepted, so
/// that one push gives batch after batch of new records.
final class CapturingTransport: CentralTransport, Sendable {
  let captured = Mutex<[PushBatch]>([])
  /// Each captured batch's signed request, as the in-process wire signs it.
  let signed = Mutex<[SignedRequest]>([])
  let underlying: any CentralTransport
  let acknowledging: Bool

  init(_ underlying: any CentralTransport, acknowledging: Bool = false) {
    self.underlying = underlying
    self.acknowledging = acknowledging
  }

  var batches: [PushBatch] { captured.withLock { $0 } }

  func health() async throws -> HealthResponse { try await underlying.health() }
  func register(_ request: RegisterRequest, signer: RequestSigner) async throws
    -> RegisterResponse
  { try await underlying.register(request, signer: signer) }
  func changes(terminal: String, after: Int64, limit: Int, signer: RequestSigner) async throws
    -> ChangesResponse
  { try await underlying.changes(terminal: terminal, after: after, limit: limit, signer: signer) }
  func push(_ batch: PushBatch, signer: RequestSigner) async throws -> PushResponse {
    captured.withLock { $0.append(batch) }
    let request = try signer.sign(
      method: "POST", target: "/v1/push", body: try JSONEncoder().encode(batch))
    signed.withLock { $0.append(request) }
    guard acknowledging else { throw TransportError("captured for the test") }
    return PushResponse(
      batchID: batch.batchID,
      acknowledgements: batch.records.map {
        RecordAcknowledgement(recordID: $0.recordID, outcome: .accepted)
      })
  }
}

/// A central node for the race tests: a service with its own database connection, used by
/// one thread at a time (the test's), which is what makes handing it over sound.
final class Node: @unchecked Sendable {
  let service: CentralService
  init(_ service: CentralService) { self.service = service }
}

/// Runs every body on its own thread, all released at the same instant once each thread
/// is running, and returns their results in order: how two central nodes receive requests
/// at once. A body's error is its result.
func simultaneously<T: Sendable>(_ bodies: (@Sendable () throws -> T)...) -> [Result<T, any Error>]
{
  let ready = DispatchSemaphore(value: 0)
  let go = DispatchSemaphore(value: 0)
  let done = DispatchGroup()
  let results = Mutex<[Int: Result<T, any Error>]>([:])
  for (index, body) in bodies.enumerated() {
    done.enter()
    let thread = Thread {
      ready.signal()
      go.wait()
      let result = Result { try body() }
      results.withLock { $0[index] = result }
      done.leave()
    }
    thread.start()
  }
  for _ in bodies { ready.wait() }
  for _ in bodies { go.signal() }
  done.wait()
  return results.withLock { all in bodies.indices.map { all[$0]! } }
}
