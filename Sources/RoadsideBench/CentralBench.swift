public import Foundation
import Histogram
import Logging
import PostgresNIO
public import RoadsideCentral
import RoadsideCentralServer
public import RoadsideDomain
import RoadsideFixtures
import RoadsidePostgres
import RoadsideProtocol
import RoadsideStorage
import RoadsideSync
import RoadsideTerminal
import Synchronization

/// `bench central`: N terminals, each enrolled with its own key, push signed batches over
/// HTTP to K central nodes on one store, all at once; then each pulls. Beside it, in the
/// same run, the bare reference: the same rows inserted into the same engine by one
/// connection with a prepared statement, in the same batch sizes.
///
/// The nodes are K `CentralEndpoint`s in this process, each with its own connection and
/// its own HTTP server on loopback: what separates two `central serve` processes (their
/// connections and their transactions) is there; a process boundary is not.
public struct CentralBench: Sendable {
  /// Where central lives: a SQLite file (nil: one in a scratch folder), or a PostgreSQL
  /// server, on which the bench makes a database of its own and drops it at the end.
  public let store: CentralStoreLocation?
  public let terminals: Int
  public let nodes: Int
  /// Records pushed in all (lookups: a check and its audit entry each).
  public let records: Int
  public let batchSize: Int
  /// Connections each node has to a PostgreSQL store (nil: the endpoint's default).
  public let connections: Int?
  /// The steady phase: each terminal pushes one check every `pace` seconds, `rounds` times.
  public let steady: Steady
  /// Where the terminals keep their SQLite files: a scratch folder is made inside it.
  /// nil: ``defaultFleetParent``.
  public let fleetParent: URL?
  public let clock: any Clock

  /// The fleet's default home: `/dev/shm` (tmpfs) when it is a writable folder with at
  /// least 1 GiB free (a container's is often 64 MiB), else the temporary folder.
  ///
  /// The terminals are the load, not what is measured. A real terminal commits to its own
  /// flash; 200 of them committing (`synchronous=FULL`) to this machine's one disk, beside
  /// central's database, wait on one fsync queue, and their fsyncs block the two threads
  /// Swift's concurrency pool has here, which all 200 terminals share. In one pair of runs
  /// of the same build on 2 December, the steady p50 was 21.7 ms with the fleet on tmpfs
  /// and 164.5 ms with it on disk (BENCHMARKS.md). Central's own store never moves: its
  /// SQLite file stays in the temporary folder, a PostgreSQL server where it is.
  public static var defaultFleetParent: URL { ScratchFolder.memory }

  /// The offered load of the latency goal: what a fleet sends when it is not all at once.
  public struct Steady: Sendable {
    public let pace: Double
    public let rounds: Int

    public init(pace: Double = 1, rounds: Int = 10) {
      self.pace = pace
      self.rounds = rounds
    }
  }

  public init(
    store: CentralStoreLocation?, terminals: Int, nodes: Int, records: Int, batchSize: Int = 50,
    connections: Int? = nil, steady: Steady = Steady(), fleetParent: URL? = nil,
    clock: any Clock
  ) {
    self.store = store
    self.terminals = terminals
    self.nodes = nodes
    self.records = records
    self.batchSize = batchSize
    self.connections = connections
    self.steady = steady
    self.fleetParent = fleetParent
    self.clock = clock
  }

  /// A terminal of the bench, handed to one task at a time.
  final class Handset: @unchecked Sendable {
    let terminal: Terminal
    let transport: TimedTransport
    init(_ terminal: Terminal, _ transport: TimedTransport) {
      self.terminal = terminal
      self.transport = transport
    }
  }

  public func run() async throws -> [BenchResult] {
    let dir = try scratchDirectory("central")
    defer { try? FileManager.default.removeItem(at: dir) }
    let fleetDir = try scratchDirectory("fleet", in: fleetParent ?? Self.defaultFleetParent)
    defer { try? FileManager.default.removeItem(at: fleetDir) }
    let (location, dropDatabase) = try makeLocation(in: dir)
    defer { dropDatabase() }
    let engine = location.engineName
    let fixtures = try FixtureLoader().load(directory: DefaultFixtures.directory)
    // Officers choose PINs of 1,000 iterations here: 200 logins at 600,000 would measure
    // PBKDF2, not sync.
    let central = try CentralService.initialise(
      location, fixtures: fixtures, source: "default", clock: clock, minimumPINIterations: 1_000)
    let unit = try central.terminals().first { $0.id == "T-BJ-0001" }!.unit
    var codes: [(String, String)] = []
    for index in 0..<terminals {
      let id = String(format: "T-BN-%04d", index + 1)
      _ = try central.addTerminal(id: id, unit: unit, reason: "bench")
      let code = try central.issueEnrolment(
        terminal: id, random: Array(String(format: "%010d", index).utf8))
      codes.append((id, code.code))
    }
    let endpoints = try (0..<nodes).map { _ in
      try CentralEndpoint(location: location, clock: self.clock, connections: connections)
    }
    let connectionsPerNode = endpoints[0].connections
    let numbers = fixtures.licences.filter { $0.status.codes == [.normal] }.map(\.number)
    let latencies = LatencyRecorder()
    let (clock, terminals, records, batchSize, steady) = (
      self.clock, self.terminals, self.records, self.batchSize, self.steady
    )
    let enrolments = codes
    return try await withServers(endpoints) { urls in
      // Enrolment, the first pull and a login on each terminal (not timed). The first
      // login chooses the officer's PIN; the others pull it and log in with it.
      var handsets: [Handset] = []
      for (index, (id, code)) in enrolments.enumerated() {
        let http = HTTPTransport(baseURL: urls[index % urls.count], timeoutSeconds: 120)
        var terminal = try await Terminal.initialise(
          path: fleetDir.appendingPathComponent("\(id).sqlite").path, terminal: id,
          centralName: "bench", transport: http, enrolmentCode: code,
          keySeed: [UInt8](repeating: UInt8(truncatingIfNeeded: index + 1), count: 32),
          clock: clock, identifiers: SeededIdentifiers(seed: UInt64(index + 1)))
        terminal.pinIterations = 1_000
        _ = try await terminal.pull(transport: http)
        if index == 0 {
          try terminal.login(officer: "010001", pin: "010001", newPIN: "343334")
          _ = try await terminal.push(transport: http)
        } else {
          try terminal.login(officer: "010001", pin: "343334")
        }
        handsets.append(Handset(terminal, TimedTransport(http, into: latencies)))
      }
      let perTerminal = max(1, records / 2 / terminals)
      for (index, handset) in handsets.enumerated() {
        for i in 0..<perTerminal {
          _ = try handset.terminal.lookup(numbers[(index * perTerminal + i) % numbers.count])
        }
      }
      let pending = try handsets.reduce(0) { $0 + (try $1.terminal.store.outboxDepth()) }
      latencies.histogram.withLock { $0.reset() }

      // Every terminal pushes at once, in batches, to its node; then pulls.
      var applied = 0
      let pushSeconds = try await seconds {
        applied = try await withThrowingTaskGroup(of: Int.self) { group in
          for handset in handsets {
            group.addTask {
              try await handset.terminal.push(
                transport: handset.transport, batchSize: batchSize, attempts: 1
              ).accepted
            }
          }
          return try await group.reduce(0, +)
        }
      }
      let pullSeconds = try await seconds {
        try await withThrowingTaskGroup(of: Void.self) { group in
          for handset in handsets {
            group.addTask { _ = try await handset.terminal.pull(transport: handset.transport) }
          }
          try await group.waitForAll()
        }
      }
      let latency = latencies.histogram.withLock { $0 }
      let rate = Double(applied) / pushSeconds

      // The steady phase: each terminal makes a check and pushes it every `pace` seconds,
      // the terminals' schedules spread evenly over the pace. A push is timed from when it
      // was due, not from when it was sent, so that a push held up behind a slow one counts
      // its wait (no coordinated omission).
      let steadyLatencies = LatencyRecorder()
      let period = Duration.milliseconds(Int((steady.pace * 1000).rounded()))
      let firstDue = ContinuousClock.now + .milliseconds(500)
      let steadyApplied = try await withThrowingTaskGroup(of: Int.self) { group in
        for (index, handset) in handsets.enumerated() {
          group.addTask {
            var accepted = 0
            let offset = period * (Double(index) / Double(terminals))
            for round in 0..<steady.rounds {
              _ = try handset.terminal.lookup(
                numbers[(index * 31 + round * 7 + 3) % numbers.count])
              let due = firstDue + offset + period * round
              try await Task.sleep(until: due, clock: .continuous)
              accepted +=
                try await handset.terminal.push(
                  transport: handset.transport.http, batchSize: batchSize, attempts: 1
                ).accepted
              steadyLatencies.record(ContinuousClock.now - due)
            }
            return accepted
          }
        }
        return try await group.reduce(0, +)
      }
      let steadyElapsed = ContinuousClock.now - firstDue
      let steadyRate =
        Double(steadyApplied)
        / (Double(steadyElapsed.components.seconds)
          + Double(steadyElapsed.components.attoseconds) / 1e18)
      let steadyLatency = steadyLatencies.histogram.withLock { $0 }
      let offered = Double(terminals * 2) / steady.pace

      // The bare reference: as many rows, one connection, one prepared statement.
      let bare: Double
      switch location {
      case .file(let path):
        bare = try bareInsertRate(sqlite: path, rows: applied, batchSize: batchSize)
      case .postgresql(let url):
        bare = try await bareInsertRate(postgres: url, rows: applied, batchSize: batchSize)
      }
      func milliseconds(_ histogram: Histogram<UInt64>, _ percentile: Double) -> Double {
        Double(histogram.valueAtPercentile(percentile)) / 1000
      }
      let setting =
        "\(terminals) terminals (files in \(fleetDir.deletingLastPathComponent().path)), \(urls.count) node(s) of \(connectionsPerNode) connection(s), \(engine)"
      let steadySetting =
        "each terminal pushes a check (2 records) every \(steady.pace) s, \(steady.rounds) times, schedules spread over the pace: \(String(format: "%.0f", offered)) records/s offered, \(String(format: "%.0f", steadyRate)) applied; timed from when each push was due; \(setting)"
      return [
        BenchResult(
          name: "central push (\(engine))", unit: "records/s", value: rate, reference: bare,
          ratio: rate / bare, goal: "≥ 0.5× the bare insert rate", met: rate / bare >= 0.5,
          detail:
            "\(applied) of \(pending) records accepted in \(String(format: "%.2f", pushSeconds)) s, all terminals at once, signed batches of \(batchSize) over HTTP; \(setting); bare: one connection, prepared INSERT, transactions of \(batchSize)"
        ),
        BenchResult(
          name: "burst push latency p50 (\(engine))", unit: "ms", value: milliseconds(latency, 50),
          reference: nil, ratio: nil, goal: "—", met: true,
          detail:
            "\(latency.totalCount) pushes of up to \(batchSize) records, all terminals at once (the queue's drain time); \(setting)"
        ),
        BenchResult(
          name: "burst push latency p99 (\(engine))", unit: "ms", value: milliseconds(latency, 99),
          reference: nil, ratio: nil, goal: "—", met: true,
          detail: "\(latency.totalCount) pushes, HDR histogram; \(setting)"),
        BenchResult(
          name: "steady push latency p50 (\(engine))", unit: "ms",
          value: milliseconds(steadyLatency, 50), reference: nil, ratio: nil, goal: "—", met: true,
          detail: "\(steadyLatency.totalCount) pushes, HDR histogram; \(steadySetting)"),
        BenchResult(
          name: "steady push latency p99 (\(engine))", unit: "ms",
          value: milliseconds(steadyLatency, 99), reference: nil, ratio: nil, goal: "< 250 ms",
          met: milliseconds(steadyLatency, 99) < 250,
          detail: "\(steadyLatency.totalCount) pushes, HDR histogram; \(steadySetting)"),
        BenchResult(
          name: "pull after push (\(engine))", unit: "s", value: pullSeconds, reference: nil,
          ratio: nil, goal: "—", met: true,
          detail: "every terminal pulls what the others pushed; \(setting)"),
      ]
    }
  }
  /// The store to measure: a file in `dir`, or a new database on the given server (and how
  /// to drop it).
  func makeLocation(in dir: URL) throws -> (CentralStoreLocation, () -> Void) {
    switch store {
    case nil:
      return (.file(dir.appendingPathComponent("central.sqlite").path), {})
    case .file(let path)?:
      return (.file(path), {})
    case .postgresql(let server)?:
      let name = "roadside_bench_\(UUID().uuidString.lowercased().prefix(8))"
      let url = try server.creatingDatabase(name)
      return (.postgresql(url), { try? server.droppingDatabase(name) })
    }
  }

  /// Rows a second that one connection inserts into a table with the columns of central's
  /// `records`, through one prepared statement, `batchSize` rows a transaction.
  func bareInsertRate(sqlite path: String, rows: Int, batchSize: Int) throws -> Double {
    let payload = String(repeating: "x", count: 300)
    let db = try Connection(path: path + ".bare", create: true, durability: .full)
    try db.execute(Self.bareTable)
    return try Double(rows)
      / seconds {
        for start in stride(from: 0, to: rows, by: batchSize) {
          try db.transaction {
            for i in start..<min(rows, start + batchSize) {
              try db.execute(
                "INSERT INTO bare_records VALUES (?, 'T-1', ?, 'check', '2026-11-22T09:30:00+08:00', '2026-11-22T09:30:00+08:00', ?, 'accepted')",
                "r-\(i)", i, payload)
            }
          }
        }
      }
  }

  /// The same on PostgreSQL: one connection, a named prepared statement (postgres-nio's
  /// `PostgresPreparedStatement`: parsed once, then only bound and executed).
  func bareInsertRate(postgres url: PostgresURL, rows: Int, batchSize: Int) async throws
    -> Double
  {
    var logger = Logger(label: "roadside.bench")
    logger.logLevel = .critical
    let connection = try await PostgresConnection.connect(
      configuration: PostgresConnection.Configuration(
        host: url.host, port: url.port, username: url.user, password: url.password,
        database: url.database, tls: .disable),
      id: 1, logger: logger)
    defer { Task { try? await connection.close() } }
    try await connection.query(PostgresQuery(unsafeSQL: Self.bareTable), logger: logger)
    let payload = String(repeating: "x", count: 300)
    return try await Double(rows)
      / seconds {
        for start in stride(from: 0, to: rows, by: batchSize) {
          try await connection.query("BEGIN", logger: logger)
          for i in start..<min(rows, start + batchSize) {
            _ = try await connection.execute(
              BareInsert(id: "r-\(i)", seq: Int64(i), payload: payload), logger: logger)
          }
          try await connection.query("COMMIT", logger: logger)
        }
      }
  }

  static let bareTable = """
    CREATE TABLE bare_records (record_id TEXT PRIMARY KEY, terminal TEXT NOT NULL,
      terminal_seq BIGINT NOT NULL, kind TEXT NOT NULL, created_at TEXT NOT NULL,
      received_at TEXT NOT NULL, payload TEXT NOT NULL, outcome TEXT NOT NULL)
    """
}

/// One row of the bare reference, as a prepared statement.
struct BareInsert: PostgresPreparedStatement {
  static let sql =
    "INSERT INTO bare_records VALUES ($1, 'T-1', $2, 'check', '2026-11-22T09:30:00+08:00', '2026-11-22T09:30:00+08:00', $3, 'accepted')"
  typealias Row = ()

  let id: String
  let seq: Int64
  let payload: String

  func makeBindings() throws -> PostgresBindings {
    var bindings = PostgresBindings(capacity: 3)
    bindings.append(id)
    bindings.append(seq)
    bindings.append(payload)
    return bindings
  }

  func decodeRow(_ row: PostgresRow) throws {}
}

/// Push latencies in microseconds, shared by every terminal's transport.
final class LatencyRecorder: Sendable {
  let histogram = Mutex(
    Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000))

  func record(_ elapsed: Duration) {
    let micros =
      UInt64(max(0, elapsed.components.seconds)) * 1_000_000
      + UInt64(max(0, elapsed.components.attoseconds) / 1_000_000_000_000)
    histogram.withLock { _ = $0.record(micros) }
  }
}

/// The terminal's HTTP transport, with each push timed into the shared recorder.
final class TimedTransport: CentralTransport, Sendable {
  let http: HTTPTransport
  let latencies: LatencyRecorder

  init(_ http: HTTPTransport, into latencies: LatencyRecorder) {
    self.http = http
    self.latencies = latencies
  }

  func health() async throws -> HealthResponse { try await http.health() }
  func register(_ request: RegisterRequest, signer: RequestSigner) async throws
    -> RegisterResponse
  { try await http.register(request, signer: signer) }
  func changes(terminal: String, after: Int64, limit: Int, signer: RequestSigner) async throws
    -> ChangesResponse
  { try await http.changes(terminal: terminal, after: after, limit: limit, signer: signer) }
  func push(_ batch: PushBatch, signer: RequestSigner) async throws -> PushResponse {
    let start = ContinuousClock.now
    let response = try await http.push(batch, signer: signer)
    latencies.record(ContinuousClock.now - start)
    return response
  }
}

extension CentralStoreLocation {
  var engineName: String {
    switch self {
    case .file: "SQLite"
    case .postgresql: "PostgreSQL"
    }
  }
}
