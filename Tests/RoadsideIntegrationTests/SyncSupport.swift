import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import RoadsideCentral
import RoadsideCentralServer
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideSync
import RoadsideTerminal
import Synchronization
import Testing

/// A clock the test moves by hand, shared by central and the terminals.
final class TestClock: RoadsideDomain.Clock, Sendable {
  private let instant: Mutex<Timestamp>
  init(_ start: Timestamp) { instant = Mutex(start) }
  func now() -> Timestamp { instant.withLock { $0 } }
  func advance(seconds: Int64) { instant.withLock { $0 = $0.adding(seconds: seconds) } }
  func set(_ value: Timestamp) { instant.withLock { $0 = value } }
}

/// A fixed offset from another clock (a terminal whose clock is wrong).
struct SkewedClock: RoadsideDomain.Clock {
  let base: TestClock
  let offsetSeconds: Int64
  func now() -> Timestamp { base.now().adding(seconds: offsetSeconds) }
}

/// A terminal's clock whose offset from the world's can be changed (set wrong, set right).
final class AdjustableClock: RoadsideDomain.Clock {
  let base: TestClock
  private let offset = Mutex<Int64>(0)
  init(base: TestClock) { self.base = base }
  func set(offsetSeconds: Int64) { offset.withLock { $0 = offsetSeconds } }
  func now() -> Timestamp { base.now().adding(seconds: offset.withLock { $0 }) }
}

let start = Timestamp(iso: "2026-11-22T09:00:00+08:00")!
let defaultSet: FixtureSet = try! FixtureLoader().load(directory: DefaultFixtures.directory)

func scratch(_ label: String) -> URL {
  let dir = FileManager.default.temporaryDirectory
    .appendingPathComponent("roadside-sync-\(label)-\(UUID().uuidString)", isDirectory: true)
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir
}

/// A central store from the default fixtures and its endpoint: a SQLite file in the home,
/// or the PostgreSQL database `store` names.
struct World {
  let home: URL
  let clock: TestClock
  let centralPath: String
  let location: CentralStoreLocation
  let endpoint: CentralEndpoint

  init(clock: TestClock = TestClock(start), store: CentralStoreLocation? = nil) throws {
    home = scratch("world")
    self.clock = clock
    centralPath = home.appendingPathComponent("central.sqlite").path
    location = store ?? .file(centralPath)
    _ = try CentralService.initialise(
      location, fixtures: defaultSet, source: "default", clock: clock)
    endpoint = try CentralEndpoint(location: location, clock: clock)
  }

  /// A world over a central store made elsewhere.
  init(home: URL, clock: TestClock, centralPath: String) throws {
    self.home = home
    self.clock = clock
    self.centralPath = centralPath
    location = .file(centralPath)
    endpoint = try CentralEndpoint(path: centralPath, clock: clock)
  }

  /// A second look at the store, for assertions (on PostgreSQL: another node).
  func central() throws -> CentralService {
    try CentralService.open(location, clock: clock)
  }

  func terminalPath(_ id: String) -> String {
    home.appendingPathComponent("terminals/\(id)/terminal.sqlite").path
  }

  /// A one-time enrolment code for terminal `id`, as `central terminal add` shows it.
  func enrolmentCode(_ id: String, seed: UInt8 = 1) throws -> String {
    try central().issueEnrolment(terminal: id, random: [UInt8](repeating: seed, count: 10)).code
  }

  /// Initialises terminal `id` (a key from `seed`), pulls, and logs officer `officer` in.
  func terminal(
    _ id: String, transport: any CentralTransport, officer: String = "010001", seed: UInt8 = 1,
    clock: (any RoadsideDomain.Clock)? = nil
  ) async throws -> Terminal {
    let terminal = try await Terminal.initialise(
      path: terminalPath(id), terminal: id, centralName: "test", transport: transport,
      enrolmentCode: try enrolmentCode(id, seed: seed),
      keySeed: [UInt8](repeating: seed, count: 32), clock: clock ?? self.clock,
      identifiers: SeededIdentifiers(seed: UInt64(seed)))
    _ = try await terminal.pull(transport: transport)
    try terminal.signIn(officer)
    return terminal
  }
}

/// The PIN the tests' officers choose at first login: each digit of the police number
/// plus 3.
func chosenPIN(_ officer: String) -> String {
  String(officer.utf8.map { Character(UnicodeScalar((($0 - 48 + 3) % 10) + 48)) })
}

extension Terminal {
  /// Logs `officer` in: at first login on this terminal with the initial PIN (the police
  /// number) and ``chosenPIN(_:)`` in its place, afterwards with the chosen PIN.
  func signIn(_ officer: String) throws {
    if try mustChangePIN(officer: officer) {
      try login(officer: officer, pin: officer, newPIN: chosenPIN(officer))
    } else {
      try login(officer: officer, pin: chosenPIN(officer))
    }
  }
}

/// The request deadline of the tests' HTTP clients. The terminal's own is 10 s
/// (`HTTPTransport`), a budget for one request on an idle handheld; here the live servers
/// share two cores with some eighty suites running at once, and a request may wait longer
/// than that for a thread without anything being wrong. What the tests check is the
/// protocol, so they allow two minutes; the tests of deadlines set their own.
let liveDeadlineSeconds: Int64 = 120

/// Runs `body` with the central application served on a real loopback port.
func withLiveServer(
  _ endpoint: CentralEndpoint, idleTimeoutSeconds: Int64 = 30, headerTimeoutSeconds: Int64 = 10,
  _ body: @Sendable @escaping (String) async throws -> Void
) async throws {
  let app = try buildApplication(
    endpoint: endpoint,
    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
    idleTimeoutSeconds: idleTimeoutSeconds, headerTimeoutSeconds: headerTimeoutSeconds)
  try await app.test(.live) { client in
    let port = try #require(client.port)
    try await body("http://127.0.0.1:\(port)")
  }
}

/// A raw TCP connection to the live server at `url` (a socket file descriptor), for probes
/// below HTTP: idle and slow clients.
func rawConnection(to url: String) throws -> Int32 {
  let port = try #require(UInt16(url.split(separator: ":").last ?? ""))
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = port.bigEndian
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  let connected = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  #expect(connected == 0)
  return fd
}

let driver = try! CitizenID("110114197811271869")
let plate = try! Plate("京AD00000")

/// The two wires between terminals and central. Tests that take a `Wire` run once over
/// HTTP on a real loopback port and once in-process: the same protocol code either way.
enum Wire: String, CaseIterable, Sendable, CustomStringConvertible {
  case http
  case inProcess

  var description: String { rawValue }
}

func withTransport(
  _ wire: Wire, _ world: World,
  _ body: @Sendable @escaping (any CentralTransport) async throws -> Void
) async throws {
  switch wire {
  case .inProcess:
    try await body(InProcessTransport(endpoint: world.endpoint))
  case .http:
    try await withLiveServer(world.endpoint) { url in
      try await body(HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds))
    }
  }
}
