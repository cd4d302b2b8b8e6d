import AsyncHTTPClient
import Foundation
import Glibc
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RoadsideCentral
import RoadsideCentralServer
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideSync
import RoadsideTerminal
import Testing

/// The probes of a hostile client against a live central on loopback (docs/security.md):
/// each refusal with its status and stable code, no data in the answer, and nothing
/// changed at central.
@Suite struct HostileCentralClientTests {
  /// One request as a hostile client builds it: any headers, any body.
  func send(
    _ method: HTTPMethod, _ url: String, _ target: String, body: Data = Data(),
    headers: [(name: String, value: String)] = []
  ) async throws -> (status: Int, code: String?, text: String) {
    var request = HTTPClientRequest(url: url + target)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if !body.isEmpty { request.body = .bytes(ByteBuffer(data: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    var bytes = try await response.body.collect(upTo: 64 << 20)
    let data = bytes.readData(length: bytes.readableBytes) ?? Data()
    return (
      Int(response.status.code),
      try? JSONDecoder().decode(ErrorResponse.self, from: data).error.code,
      String(decoding: data, as: UTF8.self)
    )
  }

  func signed(
    _ signer: RequestSigner, _ method: HTTPMethod, _ target: String, body: Data = Data()
  ) -> [(name: String, value: String)] {
    // Test signers hold valid 32-byte seeds.
    try! signer.sign(method: method.rawValue, target: target, body: body).credentials!.headers
  }

  @Test func aStrangerCannotEnrolPullOrReplayAndNothingChanges() async throws {
    let world = try World()
    let clock = world.clock
    try await withLiveServer(world.endpoint) { url in
      let before = try world.central().latestSequence()
      // Squatting a fleet id that has not enrolled: any key, no code.
      let squatter = RequestSigner(
        terminal: "T-BJ-0003", privateKey: [UInt8](repeating: 42, count: 32), clock: clock)
      let register = try JSONEncoder().encode(
        RegisterRequest(
          terminal: "T-BJ-0003", publicKey: Data(squatter.publicKey).base64EncodedString(),
          enrolmentCode: "AAAA-BBBB-CCCC-DDDD"))
      var answer = try await send(
        .POST, url, "/v1/terminals/register", body: register,
        headers: signed(squatter, .POST, "/v1/terminals/register", body: register))
      #expect(answer.status == 401 && answer.code == "enrolment_invalid")
      answer = try await send(.POST, url, "/v1/terminals/register", body: register)
      #expect(answer.status == 401 && answer.code == "unsigned_request")
      // A field the schema does not define is refused, not ignored.
      let padded = Data(
        String(decoding: register, as: UTF8.self).replacingOccurrences(
          of: "{", with: "{\"admin\":true,"
        ).utf8)
      answer = try await send(.POST, url, "/v1/terminals/register", body: padded)
      #expect(answer.status == 400 && answer.code == "unknown_field")

      // Pulls and conflicts without a signature, or signed by a key central does not know.
      let target = ProtocolV1.changesTarget(terminal: "T-BJ-0001", after: 0, limit: 5_000)
      answer = try await send(.GET, url, target)
      #expect(answer.status == 401 && answer.code == "unsigned_request")
      #expect(!answer.text.contains("110114197811271869"))
      answer = try await send(.GET, url, "/v1/conflicts")
      #expect(answer.status == 401 && answer.code == "unsigned_request")
      answer = try await send(
        .GET, url, target,
        headers: signed(
          RequestSigner(
            terminal: "T-BJ-0001", privateKey: [UInt8](repeating: 9, count: 32), clock: clock),
          .GET, target))
      #expect(answer.status == 401 && answer.code == "terminal_not_enrolled")
      #expect(try world.central().latestSequence() == before)

      // The real terminal is not locked out by the squatter: it enrols with its code.
      let http = HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
      let real = try await world.terminal("T-BJ-0003", transport: http, officer: "010003", seed: 3)
      let signer = try real.requestSigner()

      // A recorded request replayed byte for byte, one from the past, one altered.
      let own = ProtocolV1.changesTarget(terminal: "T-BJ-0003", after: 0, limit: 5_000)
      let headers = signed(signer, .GET, own)
      let pulled = try await send(.GET, url, own, headers: headers)
      #expect(pulled.status == 200)
      // Need to know: a mandate reaches terminals as its bank and last four digits.
      #expect(pulled.text.contains("accountTail"))
      #expect(!defaultSet.mandates.contains { pulled.text.contains($0.account) })
      answer = try await send(.GET, url, own, headers: headers)
      #expect(answer.status == 401 && answer.code == "replayed_request")
      let late = RequestSigner(
        terminal: "T-BJ-0003", privateKey: try real.store.identity().privateKey,
        clock: FixedClock(clock.now().adding(seconds: -400)))
      answer = try await send(.GET, url, own, headers: signed(late, .GET, own))
      #expect(answer.status == 401 && answer.code == "stale_request")
      answer = try await send(.GET, url, target, headers: signed(signer, .GET, own))
      #expect(answer.status == 401 && answer.code == "bad_signature")
      // Its own changes only.
      answer = try await send(.GET, url, target, headers: signed(signer, .GET, target))
      #expect(answer.status == 403 && answer.code == "not_your_terminal")
      #expect(!answer.text.contains("110114197811271869"))

      // Reported lost: its key is refused at once.
      let lost = try world.central().latestSequence()
      _ = try world.central().revokeTerminal(id: "T-BJ-0003", reason: "lost")
      answer = try await send(.GET, url, own, headers: signed(signer, .GET, own))
      #expect(answer.status == 401 && answer.code == "terminal_revoked")
      #expect(try world.central().latestSequence() == lost + 1)
    }
  }

  /// `central terminal reset`: the old key stops working, the old numbers are retired, a
  /// new device enrols with the new code and numbers from a new range; a used code cannot
  /// enrol again, an expired one cannot enrol at all.
  @Test func aResetTerminalStartsOverWithANewCodeAndNewNumbers() async throws {
    let world = try World()
    let local = InProcessTransport(endpoint: world.endpoint)
    let old = try await world.terminal("T-BJ-0001", transport: local)
    let oldRange = try #require(try world.central().numberRanges(terminal: "T-BJ-0001").first)
    let enrolment = try world.central().resetTerminal(
      id: "T-BJ-0001", random: [UInt8](repeating: 5, count: 10), reason: "device replaced")
    let refused = await #expect(throws: APIError.self) { try await old.pull(transport: local) }
    #expect(refused?.code == "terminal_not_enrolled")

    let path = world.home.appendingPathComponent("replacement.sqlite").path
    let replacement = try await Terminal.initialise(
      path: path, terminal: "T-BJ-0001", centralName: "test", transport: local,
      enrolmentCode: enrolment.code.lowercased(), keySeed: [UInt8](repeating: 77, count: 32),
      clock: world.clock, identifiers: SeededIdentifiers(seed: 77))
    _ = try await replacement.pull(transport: local)
    let ranges = try world.central().numberRanges(terminal: "T-BJ-0001")
    // Only the new range is live; the old one stays taken (no number is issued twice).
    #expect(ranges.count == 1 && ranges[0].first > oldRange.last)
    let (remaining, total) = try replacement.numbersLeft()
    #expect(remaining == total && total == ranges.last!.last - ranges.last!.first + 1)

    // The code is used up; a second device cannot take the terminal over.
    let thief = world.home.appendingPathComponent("thief.sqlite").path
    let used = await #expect(throws: APIError.self) {
      _ = try await Terminal.initialise(
        path: thief, terminal: "T-BJ-0001", centralName: "test", transport: local,
        enrolmentCode: enrolment.code, keySeed: [UInt8](repeating: 78, count: 32),
        clock: world.clock, identifiers: SeededIdentifiers(seed: 78))
    }
    #expect(used?.code == "enrolment_used")

    // A code past its validity.
    let late = try world.central().issueEnrolment(
      terminal: "T-BJ-0002", random: [UInt8](repeating: 6, count: 10), validHours: 1)
    world.clock.advance(seconds: 3_601)
    let expired = await #expect(throws: APIError.self) {
      _ = try await Terminal.initialise(
        path: world.terminalPath("T-BJ-0002"), terminal: "T-BJ-0002", centralName: "test",
        transport: local, enrolmentCode: late.code, keySeed: [UInt8](repeating: 79, count: 32),
        clock: world.clock, identifiers: SeededIdentifiers(seed: 79))
    }
    #expect(expired?.code == "enrolment_expired")
  }

  /// A half-open connection that never sends a request is closed by the server after its
  /// idle timeout (1 s here, 30 s in `central serve`), not kept for ever.
  @Test func anIdleConnectionIsClosed() async throws {
    let world = try World()
    try await withLiveServer(world.endpoint, idleTimeoutSeconds: 1) { url in
      let fd = try rawConnection(to: url)
      defer { close(fd) }
      // A generous receive timeout so that a server that never closes fails the test.
      var limit = timeval(tv_sec: 30, tv_usec: 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
      var byte: UInt8 = 0
      let received = recv(fd, &byte, 1, 0)
      #expect(received == 0, "the server did not close the idle connection")
    }
  }

  @Test(arguments: [
    ("7K2Q-9XMA-R4TD-0BVE", "7K2Q9XMAR4TD0BVE"), ("7k2q 9xma r4td obve", "7K2Q9XMAR4TD0BVE"),
    ("IL00-0000-0000-0000", "1100000000000000"),
  ])
  func enrolmentCodesAreReadAsTyped(_ typed: String, _ normalised: String) {
    #expect(EnrolmentCode.normalised(typed) == normalised)
  }

  /// The digest every signed text carries: FIPS 180-2's own example ("abc").
  @Test func digestsAreSHA256InLowerCaseHex() {
    #expect(
      Hex.sha256(Data("abc".utf8))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(Hex.encode([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
  }

  @Test func enrolmentCodesAreEightyRandomBitsInFourGroups() {
    let code = EnrolmentCode.make(from: [UInt8](repeating: 0xFF, count: 10))
    #expect(code == "ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    #expect(EnrolmentCode.make(from: [UInt8](repeating: 0, count: 10)) == "0000-0000-0000-0000")
    #expect(EnrolmentCode.normalised("7K2Q-9XMA-R4TD-0BV") == nil)
    #expect(EnrolmentCode.normalised("7K2Q-9XMA-R4TD-0BVU") == nil)  // U is not Crockford
  }
}
