import Foundation
import RoadsideCentralServer

/// Runs `body` with the central endpoint served over HTTP on a free loopback port; the
/// server stops when `body` returns.
func withServer<T: Sendable>(
  _ endpoint: CentralEndpoint, _ body: @escaping @Sendable (String) async throws -> T
) async throws -> T {
  let (ports, continuation) = AsyncStream<Int>.makeStream()
  return try await withThrowingTaskGroup(of: T?.self) { group in
    group.addTask {
      try await serve(endpoint: endpoint, host: "127.0.0.1", port: 0, handleSignals: false) {
        port in
        continuation.yield(port)
      }
      return nil
    }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw BenchError("the server did not start") }
    let result = try await body("http://127.0.0.1:\(port)")
    group.cancelAll()
    return result
  }
}

/// Runs `body` with each endpoint served on its own loopback port (one node each).
func withServers<T: Sendable>(
  _ endpoints: [CentralEndpoint], _ body: @escaping @Sendable ([String]) async throws -> T
) async throws -> T {
  guard let first = endpoints.first else { return try await body([]) }
  let rest = Array(endpoints.dropFirst())
  return try await withServer(first) { url in
    try await withServers(rest) { urls in try await body([url] + urls) }
  }
}
