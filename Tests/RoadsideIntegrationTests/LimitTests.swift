import Foundation
import Glibc
import RoadsideCentral
import RoadsideCentralServer
import RoadsideDomain
import RoadsideProtocol
import RoadsideStorage
import RoadsideSync
import RoadsideTerminal
import Testing

/// Limits that keep one terminal, or a slow sender, from wearing central down
/// (docs/security.md, "Robustness").
@Suite struct LimitTests {
  @Test func aFloodOfJunkRecordsIsAnsweredButNotAllKept() async throws {
    let world = try World()
    let local = InProcessTransport(endpoint: world.endpoint)
    let terminal = try await world.terminal("T-BJ-0001", transport: local)
    _ = try await terminal.push(transport: local)
    let count = ConflictRules.maximumStoredRejections + 200
    let records = (1...count).map { index in
      PushRecord(
        recordID: "junk-\(index)", kind: "junk", terminalSeq: Int64(1_000 + index),
        createdAt: start, payload: "{}")
    }
    var batch = PushBatch(
      terminal: "T-BJ-0001", batchID: "flood", sentAt: start, records: records)
    batch.signature = try terminal.sign(batch)
    let answer = try await local.push(batch, signer: try terminal.requestSigner())
    #expect(answer.acknowledgements.count == count)
    #expect(answer.acknowledgements.allSatisfy { $0.outcome == .rejected })
    let reason =
      "unknown record kind \"junk\"; this central applies audit, check, violation, decision, notice, certificate, void and pin_change"
    #expect(answer.acknowledgements.first?.reason == reason)
    #expect(
      answer.acknowledgements.last?.reason
        == "\(reason) (not kept: central keeps at most 1000 rejected records of a terminal)")
    let kept = try Connection(path: world.centralPath).fetchOne(
      "SELECT count(*) FROM records WHERE terminal = 'T-BJ-0001' AND outcome = 'rejected'"
    ) { $0.int(0) }
    #expect(kept == ConflictRules.maximumStoredRejections)
  }

  @Test func aTerminalOverItsRateIsToldToWait() async throws {
    let world = try World()
    // `central serve` over the same store, with a bucket of 3 and almost no refill.
    let limited = try CentralEndpoint(
      path: world.centralPath, clock: world.clock,
      rateLimiter: RateLimiter(burst: 3, perSecond: 0.001))
    try await withLiveServer(limited) { url in
      // The terminals enrol and pull in-process, not counted.
      let local = InProcessTransport(endpoint: world.endpoint)
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      let other = try await world.terminal(
        "T-BJ-0002", transport: local, officer: "010002", seed: 2)
      let http = HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
      let signer = try terminal.requestSigner()
      for _ in 1...3 {
        _ = try await http.changes(terminal: "T-BJ-0001", after: 0, limit: 1, signer: signer)
      }
      let refused = await #expect(throws: APIError.self) {
        try await http.changes(terminal: "T-BJ-0001", after: 0, limit: 1, signer: signer)
      }
      #expect(refused?.httpStatus == 429 && refused?.code == "rate_limited")
      // A token comes back every 1,000 s; the wait counts down from there.
      let message = try #require(refused?.message)
      let prefix = "terminal T-BJ-0001 sent more than 3 requests in a burst; wait "
      #expect(message.hasPrefix(prefix) && message.hasSuffix(" s and retry"), "\(message)")
      let wait = Int(message.dropFirst(prefix.count).prefix { $0.isNumber }) ?? 0
      #expect((900...1_000).contains(wait), "\(message)")
      // Another terminal has its own bucket.
      #expect(try await other.push(transport: http).accepted == 3)
    }
  }

  @Test func aSlowSenderIsCutOffAtTheHeaderDeadline() async throws {
    let world = try World()
    try await withLiveServer(world.endpoint, headerTimeoutSeconds: 1) { url in
      let fd = try rawConnection(to: url)
      defer { close(fd) }
      // A request head trickled a byte every 200 ms: never idle, never complete.
      let head = Array("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8)
      var closed = false
      for byte in head + Array(repeating: UInt8(ascii: "a"), count: 40) {
        var one = byte
        if send(fd, &one, 1, Int32(MSG_NOSIGNAL)) < 0 {
          closed = true
          break
        }
        var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if Glibc.poll(&poll, 1, 200) > 0 {
          var buffer: UInt8 = 0
          if recv(fd, &buffer, 1, 0) <= 0 {
            closed = true
            break
          }
        }
      }
      #expect(closed, "the server did not close a connection whose head took over 1 s")
    }
  }
}
