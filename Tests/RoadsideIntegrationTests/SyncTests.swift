import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RoadsideCentral
import RoadsideCentralServer
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideStorage
import RoadsideSync
import RoadsideTerminal
import Testing

@Suite struct PullTests {
  @Test func twoTerminalsPullEverythingOverHTTP() async throws {
    let world = try World()
    try await withLiveServer(world.endpoint) { url in
      let http = HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
      let one = try await world.terminal("T-BJ-0001", transport: http, seed: 1)
      let two = try await world.terminal("T-BJ-0002", transport: http, officer: "010002", seed: 2)
      // Each registration is itself a change; pull once more so both are level.
      _ = try await one.pull(transport: http)
      let latest = try world.central().latestSequence()
      for terminal in [one, two] {
        let status = try terminal.status()
        #expect(status.cursor == latest)
        #expect(status.cached["licences"] == defaultSet.licences.count)
        #expect(status.cached["vehicles"] == defaultSet.vehicles.count)
        #expect(status.cached["offences"] == OffenceCatalogue.current.offences.count)
        // Need to know: a terminal holds only the officers of its own unit.
        let unit = defaultSet.terminals.first { $0.id == status.terminal }?.unit
        #expect(status.cached["officers"] == defaultSet.officers.filter { $0.unit == unit }.count)
        #expect(status.cached["officers"] == 2)
      }
      // A central change reaches both on their next pull, and nothing else is re-sent.
      _ = try world.central().suspend(driver, until: nil, reason: "test")
      for terminal in [one, two] {
        let report = try await terminal.pull(transport: http)
        #expect(report.changes == 1)
        #expect(try terminal.store.licence(driver)?.status.code == "D")
      }
    }
  }

  @Test(arguments: Wire.allCases)
  func smallBatchesAndAResumedPullMissNothing(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await Terminal.initialise(
        path: world.terminalPath("T-BJ-0001"), terminal: "T-BJ-0001", centralName: "local",
        transport: local, enrolmentCode: try world.enrolmentCode("T-BJ-0001"),
        keySeed: [UInt8](repeating: 9, count: 32), clock: world.clock,
        identifiers: SeededIdentifiers(seed: 9))
      // Pull only part of the log, as if the process died after a few batches.
      let partial = try await local.changes(
        terminal: "T-BJ-0001", after: 0, limit: 100, signer: try terminal.requestSigner())
      try terminal.store.apply(partial, at: world.clock.now())
      // Entries meant for other terminals are left out: 100 entries reach past seq 100.
      let cursor = try terminal.store.syncState().cursor
      #expect(partial.changes.count == 100 && cursor == partial.changes.last?.seq && cursor > 100)
      let expected = try world.central().changes(for: "T-BJ-0001", after: cursor, limit: 100_000)
        .changes.count
      var batches: [Int64] = []
      let report = try await terminal.pull(transport: local, batchSize: 37) { cursor, _ in
        batches.append(cursor)
      }
      let latest = try world.central().latestSequence()
      #expect(report.cursor == latest)
      #expect(batches == batches.sorted() && batches.last == latest)
      #expect(try terminal.store.counts()["licences"] == defaultSet.licences.count)
      #expect(report.changes == expected)
    }
  }

  @Test(arguments: Wire.allCases)
  func aBatchIsAppliedWithItsCursorOrNotAtAll(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await Terminal.initialise(
        path: world.terminalPath("T-BJ-0001"), terminal: "T-BJ-0001", centralName: "local",
        transport: local, enrolmentCode: try world.enrolmentCode("T-BJ-0001"),
        keySeed: [UInt8](repeating: 3, count: 32), clock: world.clock,
        identifiers: SeededIdentifiers(seed: 3))
      var batch = try await local.changes(
        terminal: "T-BJ-0001", after: 0, limit: 50, signer: try terminal.requestSigner())
      // Corrupt the last change: the whole batch must be refused, the cursor unmoved.
      var changes = batch.changes
      let last = changes.removeLast()
      changes.append(
        WireChange(
          seq: last.seq, at: last.at, entity: last.entity, key: last.key, op: last.op,
          payload: "{\"broken\""))
      batch = ChangesResponse(changes: changes, latest: batch.latest, hasMore: true)
      #expect(throws: TerminalError.self) { try terminal.store.apply(batch, at: world.clock.now()) }
      #expect(try terminal.store.syncState().cursor == 0)
      #expect(try terminal.store.counts().values.reduce(0, +) == 0)
    }
  }

  @Test(arguments: Wire.allCases)
  func pullRefusalsAreProtocolErrors(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      let signer = try terminal.requestSigner()
      let latest = try world.central().latestSequence()
      await #expect(
        throws: APIError(
          status: 409, code: "cursor_ahead",
          message:
            "cursor \(latest + 5) is ahead of central's newest change \(latest); this cache was not filled by this central store"
        )
      ) {
        try await local.changes(terminal: "T-BJ-0001", after: latest + 5, limit: 10, signer: signer)
      }
      await #expect(throws: APIError.self) {
        try await local.changes(terminal: "T-XX-9999", after: 0, limit: 10, signer: signer)
      }
      await #expect(throws: APIError.self) {
        try await local.changes(terminal: "T-BJ-0003", after: 0, limit: 10, signer: signer)
      }
      await #expect(throws: APIError.self) {
        try await local.changes(terminal: "T-BJ-0001", after: 0, limit: 0, signer: signer)
      }
    }
  }
}

@Suite struct PushTests {
  @Test(arguments: Wire.allCases)
  func recordsArriveExactlyOnceAndDuplicatesGetTheFirstAcknowledgement(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      _ = try terminal.lookup(driver)
      try terminal.recordViolation(licence: driver, plate: plate, offenceCode: "0301", place: "长安街")
      let pending = try terminal.store.outboxDepth()
      // First login: its audit entry, the PIN change's entry and record; lookup audit + check;
      // violation + its audit.
      #expect(pending == 7)
      let report = try await terminal.push(transport: local)
      #expect(report.accepted == pending && report.batches == 1)
      #expect(try terminal.store.outboxDepth() == 0)
      // Nothing left to push: a second push sends nothing.
      #expect(try await terminal.push(transport: local).batches == 0)
      let violations = try await local.changes(
        terminal: "T-BJ-0001", after: 0, limit: 5_000, signer: try terminal.requestSigner()
      )
      .changes
      .filter {
        $0.entity == .violation
      }
      #expect(violations.count == 1)
    }
  }

  @Test(arguments: Wire.allCases)
  func replayedReorderedAndDuplicatedBatchesChangeNothing(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      try terminal.recordViolation(licence: driver, plate: plate, offenceCode: "0301", place: "长安街")
      let batch = try signedPendingBatch(terminal)
      let first = try await local.push(batch, signer: try terminal.requestSigner())
      #expect(first.acknowledgements.allSatisfy { $0.outcome == .accepted })
      let before = try world.central().latestSequence()

      // The same batch again (a lost acknowledgement), and again reordered.
      let again = try await local.push(batch, signer: try terminal.requestSigner())
      #expect(
        again.acknowledgements.allSatisfy {
          $0.outcome == .duplicate && $0.first?.outcome == .accepted
        })
      var reordered = batch
      reordered = PushBatch(
        terminal: batch.terminal, batchID: "other", sentAt: batch.sentAt,
        records: batch.records.reversed())
      reordered.signature = try sign(reordered, terminal)
      let third = try await local.push(reordered, signer: try terminal.requestSigner())
      #expect(third.acknowledgements.map(\.recordID) == batch.records.reversed().map(\.recordID))
      #expect(third.acknowledgements.allSatisfy { $0.outcome == .duplicate })

      // Central restarted between the push and the acknowledgement: a new endpoint on the
      // same file answers the retry with the same acknowledgements.
      let restarted = InProcessTransport(
        endpoint: try CentralEndpoint(path: world.centralPath, clock: world.clock))
      let fourth = try await restarted.push(batch, signer: try terminal.requestSigner())
      #expect(
        fourth.acknowledgements.map(\.first?.outcome)
          == first.acknowledgements.map { Optional($0.outcome) })
      #expect(try world.central().latestSequence() == before)
    }
  }

  @Test(arguments: Wire.allCases)
  func aBatchSignedByAnotherTerminalIsRefusedWholesale(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let one = try await world.terminal("T-BJ-0001", transport: local, seed: 1)
      let two = try await world.terminal("T-BJ-0002", transport: local, officer: "010002", seed: 2)
      var forged = try signedPendingBatch(one)
      forged.signature = try sign(forged, two)
      let before = try world.central().latestSequence()
      await #expect(
        throws: APIError(
          status: 401, code: "bad_signature",
          message: "the batch's signature does not verify with the key of terminal T-BJ-0001")
      ) {
        try await local.push(forged, signer: try one.requestSigner())
      }
      // Tampering with a record after signing is refused the same way.
      var tampered = try signedPendingBatch(one)
      tampered = PushBatch(
        terminal: tampered.terminal, batchID: tampered.batchID, sentAt: tampered.sentAt,
        records: tampered.records.dropLast(), signature: tampered.signature)
      await #expect(throws: APIError.self) {
        try await local.push(tampered, signer: try one.requestSigner())
      }
      #expect(try world.central().latestSequence() == before)
      // The first login's audit entry, the PIN change's entry and its record.
      #expect(try await one.push(transport: local).accepted == 3)
    }
  }
}

@Suite struct ConflictTests {
  @Test func theSameEventFromTwoTerminalsIsHeldNotCountedTwice() async throws {
    let world = try World()
    try await withLiveServer(world.endpoint) { url in
      let http = HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
      let one = try await world.terminal("T-BJ-0001", transport: http, seed: 1)
      let two = try await world.terminal("T-BJ-0002", transport: http, officer: "010002", seed: 2)
      try one.recordViolation(licence: driver, plate: plate, offenceCode: "0601", place: "长安街建国门")
      world.clock.advance(seconds: 240)
      try two.recordViolation(licence: driver, plate: plate, offenceCode: "0601", place: "长安街建国门")
      #expect(try await one.push(transport: http).conflicts == 0)
      let second = try await two.push(transport: http)
      #expect(second.conflicts == 1)
      let conflicts = try world.central().conflicts()
      #expect(conflicts.map(\.kind) == [.duplicateEvent])
      #expect(conflicts[0].records.count == 2)
      // Both terminals learn of it; only one violation stays pending for the licence.
      _ = try await one.pull(transport: http)
      #expect(try one.store.conflicts(all: true).map(\.id) == [conflicts[0].id])
      #expect(try one.store.pendingViolations(driver).count == 1)
      // More than ten minutes later it is another event: not held, and its points count,
      // taking the licence to 12 with the first terminal's record.
      world.clock.advance(seconds: 11 * 60)
      try two.recordViolation(licence: driver, plate: plate, offenceCode: "0601", place: "长安街建国门")
      #expect(try await two.push(transport: http).conflicts == 1)
      #expect(
        try world.central().conflicts().map(\.kind) == [.duplicateEvent, .pointsCross12])
    }
  }

  @Test(arguments: Wire.allCases)
  func aCheckAgainstAStatusCentralKnewBetter(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      world.clock.advance(seconds: 60)
      _ = try world.central().suspend(driver, until: nil, reason: "court order")
      world.clock.advance(seconds: 60)
      let seen = try terminal.lookup(driver)  // offline: still sees A
      #expect(seen.licence?.status.code == "A")
      let report = try await terminal.push(transport: local)
      #expect(report.conflicts == 1)
      let conflict = try #require(try world.central().conflicts().first)
      #expect(conflict.kind == .staleStatus && conflict.licence == driver.value)
      #expect(conflict.description.contains("relied on status A, but central already had D"))
    }
  }

  @Test(arguments: Wire.allCases)
  func aCheckAgainstASupersededEpoch(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      world.clock.advance(seconds: 60)
      _ = try world.central().changeClasses(driver, to: [.c2, .e], reason: "added E")
      world.clock.advance(seconds: 60)
      _ = try terminal.lookup(driver)
      _ = try await terminal.push(transport: local)
      #expect(try world.central().conflicts().map(\.kind) == [.supersededEpoch])
    }
  }

  @Test(arguments: Wire.allCases)
  func pointsCrossingTwelveOnlyOnceMerged(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let one = try await world.terminal("T-BJ-0001", transport: local, seed: 1)
      let two = try await world.terminal("T-BJ-0002", transport: local, officer: "010002", seed: 2)
      try one.recordViolation(licence: driver, plate: plate, offenceCode: "0601", place: "a")
      world.clock.advance(seconds: 60)
      try two.recordViolation(licence: driver, plate: plate, offenceCode: "0603", place: "b")
      #expect(try await one.push(transport: local).conflicts == 0)
      #expect(try await two.push(transport: local).conflicts == 1)
      let conflict = try #require(try world.central().conflicts().first)
      #expect(conflict.kind == .pointsCross12)
      #expect(conflict.description.contains("reaches 12 points"))
    }
  }

  /// A terminal whose clock runs an hour fast is refused (stale_request) and keeps its
  /// records; once its clock is set right they reach central, each a clock_skew conflict.
  @Test(arguments: Wire.allCases)
  func aTerminalClockAheadOfCentral(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let clock = AdjustableClock(base: world.clock)
      let terminal = try await world.terminal("T-BJ-0001", transport: local, clock: clock)
      clock.set(offsetSeconds: 3600)
      try terminal.signIn("010001")
      try terminal.recordViolation(licence: driver, plate: plate, offenceCode: "0111", place: "a")
      let pending = try terminal.store.outboxDepth()
      let refused = await #expect(throws: APIError.self) {
        try await terminal.push(transport: local, sleep: { _ in })
      }
      #expect(refused?.httpStatus == 401 && refused?.code == "stale_request")
      #expect(try terminal.store.outboxDepth() == pending)
      clock.set(offsetSeconds: 0)
      let report = try await terminal.push(transport: local)
      #expect(report.conflicts >= 1)
      #expect(try world.central().conflicts().contains { $0.kind == .clockSkew })
    }
  }

  @Test(arguments: Wire.allCases)
  func uploadsFromARevokedTerminalAreRefused(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      try terminal.recordViolation(licence: driver, plate: plate, offenceCode: "0111", place: "a")
      _ = try world.central().revokeTerminal(id: "T-BJ-0001", reason: "reported lost")
      let before = try world.central().latestSequence()
      let pending = try terminal.store.outboxDepth()
      // A revoked terminal is not heard at all: 401, nothing stored, its records kept.
      let push = await #expect(throws: APIError.self) {
        try await terminal.push(transport: local, sleep: { _ in })
      }
      #expect(push?.httpStatus == 401 && push?.code == "terminal_revoked")
      #expect(try terminal.store.outboxDepth() == pending)
      let pull = await #expect(throws: APIError.self) { try await terminal.pull(transport: local) }
      #expect(pull?.code == "terminal_revoked")
      #expect(try world.central().latestSequence() == before)
      #expect(try world.central().conflicts().isEmpty)
    }
  }
}

@Suite struct OfficerTests {
  @Test(arguments: Wire.allCases)
  func fiveWrongPINsLockUntilCentralUnlocks(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      // 010007 is of T-BJ-0001's unit (东城); its initial PIN is its police number.
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      for attempt in 1...5 {
        #expect(throws: TerminalError.self, "attempt \(attempt)") {
          try terminal.login(officer: "010007", pin: "000000")
        }
      }
      #expect(
        throws: TerminalError(
          .notAuthorised,
          "officer 010007 is locked on this terminal after 5 wrong PINs; central must unlock them ('roadside central officer unlock 010007') and the terminal sync"
        )
      ) {
        try terminal.login(officer: "010007", pin: "010007")
      }
      _ = try world.central().unlockOfficer("010007", reason: "verified identity")
      #expect(throws: TerminalError.self) { try terminal.signIn("010007") }
      _ = try await terminal.pull(transport: local)
      try terminal.signIn("010007")
      #expect(try terminal.currentOfficer() == "010007")
    }
  }

  @Test(arguments: Wire.allCases)
  func sessionsExpireAfterThirtyQuietMinutes(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      world.clock.advance(seconds: 29 * 60)
      _ = try terminal.lookup(driver)  // activity renews the session
      world.clock.advance(seconds: 29 * 60)
      _ = try terminal.lookup(driver)
      world.clock.advance(seconds: 31 * 60)
      #expect(throws: TerminalError.self) { try terminal.lookup(driver) }
    }
  }
}

@Suite struct AuditTests {
  @Test(arguments: Wire.allCases)
  func centralVerifiesThePushedChainAndSeesGapsAndEdits(_ wire: Wire) async throws {
    let world = try World()
    try await withTransport(wire, world) { local in
      let terminal = try await world.terminal("T-BJ-0001", transport: local)
      for _ in 0..<3 { _ = try terminal.lookup(driver) }
      _ = try await terminal.push(transport: local)
      // The first login (and its PIN change) and three lookups.
      #expect(try world.central().verifyAudit(terminal: "T-BJ-0001").verdict == .intact(entries: 5))
      #expect(AuditChain.verify(try terminal.auditLog()) == .intact(entries: 5))

      // A lost entry: the terminal's outbox loses the audit record of entry 7.
      _ = try terminal.lookup(driver)
      _ = try terminal.lookup(driver)
      _ = try terminal.lookup(driver)
      try Connection(path: world.terminalPath("T-BJ-0001")).execute(
        "DELETE FROM outbox WHERE kind = 'audit' AND payload LIKE '%\"seq\":7,%'")
      _ = try await terminal.push(transport: local)
      #expect(
        try world.central().verifyAudit(terminal: "T-BJ-0001").verdict
          == .gap(afterSeq: 6, found: 8))

      // An edited entry is refused: its hash no longer matches.
      _ = try terminal.lookup(driver)
      try Connection(path: world.terminalPath("T-BJ-0001")).execute(
        "UPDATE outbox SET payload = replace(payload, 'status=A', 'status=D') WHERE kind = 'audit' AND state = 'pending'"
      )
      let report = try await terminal.push(transport: local)
      #expect(report.rejected == 1)
    }
  }
}

@Suite struct HTTPErrorTests {
  func raw(_ method: HTTPMethod, _ url: String, body: [UInt8]? = nil) async throws -> (
    Int, ErrorResponse?
  ) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    // Generous: the suite runs this beside hundreds of simulations on two cores; the test
    // judges the answers, not their speed.
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    var bytes = try await response.body.collect(upTo: 1 << 20)
    let data = bytes.readData(length: bytes.readableBytes) ?? Data()
    return (Int(response.status.code), try? JSONDecoder().decode(ErrorResponse.self, from: data))
  }

  @Test func badRequestsGetJSONErrorsAndChangeNothing() async throws {
    let world = try World()
    let before = try world.central().latestSequence()
    try await withLiveServer(world.endpoint) { url in
      var (status, error) = try await raw(.GET, "\(url)/v1/nope")
      #expect(status == 404 && error?.error.code == "unknown_route")
      (status, error) = try await raw(.TRACE, "\(url)/v1/health")
      #expect(status == 405 && error?.error.code == "method_not_allowed")
      (status, error) = try await raw(.DELETE, "\(url)/v1/push")
      #expect(status == 405 && error?.error.code == "method_not_allowed")
      (status, error) = try await raw(.GET, "\(url)/v2/health")
      #expect(status == 404 && error?.error.code == "unsupported_api_version")
      (status, error) = try await raw(
        .POST, "\(url)/v1/push", body: Array("{\"terminal\": \"T-BJ-0001\", \"rec".utf8))
      #expect(status == 400 && error?.error.code == "malformed_body")
      (status, error) = try await raw(.POST, "\(url)/v1/push", body: Array("not json at all".utf8))
      #expect(status == 400 && error?.error.code == "malformed_body")
      (status, error) = try await raw(
        .POST, "\(url)/v1/push", body: [UInt8](repeating: 32, count: (4 << 20) + 10))
      #expect(status == 413 && error?.error.code == "body_too_large")
      (status, error) = try await raw(.GET, "\(url)/v1/changes?terminal=T-BJ-0001&after=999999")
      #expect(status == 401 && error?.error.code == "unsigned_request")
      (status, error) = try await raw(
        .POST, "\(url)/v1/terminals/register",
        body: Array(
          "{\"terminal\":\"T-BJ-0001\",\"publicKey\":\"!!\",\"enrolmentCode\":\"0000-0000-0000-0000\"}"
            .utf8))
      #expect(status == 400 && error?.error.code == "bad_public_key")
      let health = try await HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
        .health()
      #expect(health.apiVersion == 1 && health.latest == before)
    }
    #expect(try world.central().latestSequence() == before)
  }
}

/// The terminal's pending records as a signed batch, without sending it.
func signedPendingBatch(_ terminal: Terminal) throws -> PushBatch {
  let records = try terminal.store.pendingRecords(limit: 500)
  var batch = PushBatch(
    terminal: try terminal.store.identity().terminal, batchID: UUID().uuidString, sentAt: start,
    records: records)
  batch.signature = try sign(batch, terminal)
  return batch
}

func sign(_ batch: PushBatch, _ terminal: Terminal) throws -> String {
  try terminal.sign(batch)
}
