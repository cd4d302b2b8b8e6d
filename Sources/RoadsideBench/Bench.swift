internal import CSQLite
import Crypto
import Foundation
import RoadsideCentral
import RoadsideCentralServer
import RoadsideCredentials
public import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideSync
import RoadsideTerminal

/// One measured figure, with its reference and goal when it has them.
public struct BenchResult: Sendable, Codable, Equatable {
  public let name: String
  /// What was measured, e.g. "licences/s".
  public let unit: String
  public let value: Double
  /// The bare reference measured in the same run (same unit), if any.
  public let reference: Double?
  /// value / reference.
  public let ratio: Double?
  /// The goal, as text ("≥ 0.5×", "< 100 ms").
  public let goal: String
  public let met: Bool
  public let detail: String

  public init(
    name: String, unit: String, value: Double, reference: Double?, ratio: Double?, goal: String,
    met: Bool, detail: String
  ) {
    self.name = name
    self.unit = unit
    self.value = value
    self.reference = reference
    self.ratio = ratio
    self.goal = goal
    self.met = met
    self.detail = detail
  }
}

/// Times `body` with the monotonic clock (benchmarks may read the clock: they measure it).
func seconds(_ body: () throws -> Void) rethrows -> Double {
  let start = ContinuousClock.now
  try body()
  let elapsed = ContinuousClock.now - start
  return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
  let start = ContinuousClock.now
  try await body()
  let elapsed = ContinuousClock.now - start
  return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func scratchDirectory(
  _ label: String, in parent: URL = FileManager.default.temporaryDirectory
) throws -> URL {
  let dir =
    parent
    .appendingPathComponent("roadside-bench-\(label)-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir
}

/// The benchmarks of the sync paths.
public struct SyncBench {
  public let licences: Int
  public let clock: any RoadsideDomain.Clock

  public init(licences: Int, clock: any RoadsideDomain.Clock) {
    self.licences = licences
    self.clock = clock
  }

  /// Full pull of `licences` licence changes into an empty cache, against a bare C-API
  /// insert loop of the same rows (same columns, same pragmas, same batch size).
  public func fullPull() throws -> [BenchResult] {
    let now = clock.now()
    let generated = FixtureGenerator(licenceCount: licences, seed: 1, referenceDate: now.chinaDate)
      .generateLicences()
    var batches: [ChangesResponse] = []
    var seq: Int64 = 0
    let batchSize = ProtocolV1.maximumBatch
    for start in stride(from: 0, to: generated.count, by: batchSize) {
      let slice = generated[start..<min(start + batchSize, generated.count)]
      let changes = try slice.map { licence -> WireChange in
        seq += 1
        return WireChange(
          seq: seq, at: now, entity: .licence, key: licence.number.value, op: .upsert,
          payload: try CanonicalJSON.string(licence))
      }
      batches.append(
        ChangesResponse(changes: changes, latest: Int64(generated.count), hasMore: true))
    }

    // The reference: the same rows, prepared once, bound and stepped through the C API.
    let referenceDir = try scratchDirectory("reference")
    defer { try? FileManager.default.removeItem(at: referenceDir) }
    let referenceSeconds = try bareInsert(
      generated, path: referenceDir.appendingPathComponent("bare.sqlite").path)

    // Roadside: a terminal file, every batch applied with its cursor.
    let dir = try scratchDirectory("pull")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("terminal.sqlite").path
    let store = try TerminalStore.create(
      path: path,
      identity: TerminalIdentity(
        terminal: "T-BENCH", unit: "bench", central: "none",
        privateKey: [UInt8](repeating: 1, count: 32),
        publicKey: [UInt8](repeating: 2, count: 32), createdAt: now))
    let pullSeconds = try seconds {
      for batch in batches { try store.apply(batch, at: now) }
    }
    let cachedBytes = try store.checkpointedSize()
    let rate = Double(licences) / pullSeconds
    let referenceRate = Double(licences) / referenceSeconds
    let ratio = rate / referenceRate
    let perLicence = Double(cachedBytes) / Double(licences)
    return [
      BenchResult(
        name: "full pull", unit: "licences/s", value: rate, reference: referenceRate, ratio: ratio,
        goal: "≥ 0.5× the bare C-API insert loop", met: ratio >= 0.5,
        detail:
          "\(licences) licence changes in batches of \(batchSize): \(format(pullSeconds)) s; the bare loop of the same rows: \(format(referenceSeconds)) s"
      ),
      BenchResult(
        name: "cache size", unit: "bytes/licence", value: perLicence, reference: nil, ratio: nil,
        goal: "≤ 200 bytes per licence", met: perLicence <= 200,
        detail: "terminal file of \(cachedBytes) bytes after a checkpoint, \(licences) licences"),
    ]
  }

  /// The bare reference: prepared INSERT, typed binds, one transaction per 5,000 rows.
  func bareInsert(_ rows: [Licence], path: String) throws -> Double {
    var db: OpaquePointer?
    guard sqlite3_open(path, &db) == SQLITE_OK, let db else {
      throw BenchError("cannot open \(path)")
    }
    defer { sqlite3_close(db) }
    func exec(_ sql: String) throws {
      guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
        throw BenchError(String(cString: sqlite3_errmsg(db)))
      }
    }
    try exec("PRAGMA journal_mode=WAL")
    try exec("PRAGMA synchronous=FULL")
    try exec(
      """
      CREATE TABLE licences (number TEXT PRIMARY KEY, name TEXT NOT NULL, gender INTEGER NOT NULL,
        birth INTEGER NOT NULL, first_issued INTEGER NOT NULL, classes TEXT NOT NULL, term TEXT NOT NULL,
        valid_from INTEGER NOT NULL, authority TEXT NOT NULL, status TEXT NOT NULL, epoch INTEGER NOT NULL,
        suspended_until INTEGER) STRICT, WITHOUT ROWID
      """)
    // Column values computed before the clock starts: the reference does no decoding.
    let values = rows.map { l in
      (
        l.number.value, l.name, Int64(l.gender == .male ? 1 : 0), Int64(l.birthDate.daysSinceEpoch),
        Int64(l.firstIssued.daysSinceEpoch), l.classes.code, l.validity.term.rawValue,
        Int64(l.validity.validFrom.daysSinceEpoch), l.authority.code, l.status.code, Int64(l.epoch),
        l.suspendedUntil.map { Int64($0.daysSinceEpoch) }
      )
    }
    var statement: OpaquePointer?
    sqlite3_prepare_v2(
      db, "INSERT OR REPLACE INTO licences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
      &statement, nil)
    defer { sqlite3_finalize(statement) }
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    return try seconds {
      for start in stride(from: 0, to: values.count, by: ProtocolV1.maximumBatch) {
        try exec("BEGIN IMMEDIATE")
        for v in values[start..<min(start + ProtocolV1.maximumBatch, values.count)] {
          sqlite3_bind_text(statement, 1, v.0, -1, transient)
          sqlite3_bind_text(statement, 2, v.1, -1, transient)
          sqlite3_bind_int64(statement, 3, v.2)
          sqlite3_bind_int64(statement, 4, v.3)
          sqlite3_bind_int64(statement, 5, v.4)
          sqlite3_bind_text(statement, 6, v.5, -1, transient)
          sqlite3_bind_text(statement, 7, v.6, -1, transient)
          sqlite3_bind_int64(statement, 8, v.7)
          sqlite3_bind_text(statement, 9, v.8, -1, transient)
          sqlite3_bind_text(statement, 10, v.9, -1, transient)
          sqlite3_bind_int64(statement, 11, v.10)
          if let s = v.11 {
            sqlite3_bind_int64(statement, 12, s)
          } else {
            sqlite3_bind_null(statement, 12)
          }
          guard sqlite3_step(statement) == SQLITE_DONE else {
            throw BenchError(String(cString: sqlite3_errmsg(db)))
          }
          sqlite3_reset(statement)
        }
        try exec("COMMIT")
      }
    }
  }

  /// An incremental pull of `changes` central changes, and a push of `records` records, both
  /// over HTTP to a central server on loopback.
  public func incrementalPullAndPush(changes: Int, records: Int) async throws -> [BenchResult] {
    let dir = try scratchDirectory("sync")
    defer { try? FileManager.default.removeItem(at: dir) }
    let centralPath = dir.appendingPathComponent("central.sqlite").path
    let fixtures = try FixtureLoader().load(directory: DefaultFixtures.directory)
    _ = try CentralService.initialise(
      path: centralPath, fixtures: fixtures, source: "default", clock: clock)
    let enrolment = try CentralService.open(path: centralPath, clock: clock).issueEnrolment(
      terminal: "T-BJ-0001", random: [UInt8](repeating: 5, count: 10))
    let endpoint = try CentralEndpoint(path: centralPath, clock: clock)
    let clock = self.clock
    return try await withServer(endpoint) { url in
      let http = HTTPTransport(baseURL: url)
      let terminal = try await Terminal.initialise(
        path: dir.appendingPathComponent("terminal.sqlite").path, terminal: "T-BJ-0001",
        centralName: url, transport: http, enrolmentCode: enrolment.code,
        keySeed: [UInt8](repeating: 5, count: 32), clock: clock,
        identifiers: SeededIdentifiers(seed: 5))
      _ = try await terminal.pull(transport: http)

      // Central makes `changes` changes; the terminal pulls them.
      let central = try CentralService.open(path: centralPath, clock: clock)
      let numbers = fixtures.licences.filter { $0.status.codes == [.normal] }.map(\.number)
      for i in 0..<changes {
        let number = numbers[(i / 2) % numbers.count]
        if i % 2 == 0 {
          _ = try central.withhold(number, reason: "bench")
        } else {
          _ = try central.reinstate(number, reason: "bench")
        }
      }
      var pulled = 0
      let pullSeconds = try await seconds {
        pulled = try await terminal.pull(transport: http, batchSize: ProtocolV1.maximumBatch)
          .changes
      }

      // The terminal makes `records` records (lookups: a check and an audit entry each).
      // First login: the fixture's initial PIN is replaced (before anything is timed).
      try terminal.login(officer: "010001", pin: "010001", newPIN: "343334")
      for i in 0..<(records / 2) { _ = try terminal.lookup(numbers[i % numbers.count]) }
      let pending = try terminal.store.outboxDepth()
      var report = PushReport()
      let pushSeconds = try await seconds {
        report = try await terminal.push(transport: http, batchSize: 500)
      }
      return [
        BenchResult(
          name: "incremental pull", unit: "ms", value: pullSeconds * 1000, reference: nil,
          ratio: nil,
          goal: "< 100 ms for 1,000 changes",
          met: pullSeconds * 1000 < 100 * Double(changes) / 1000,
          detail: "\(pulled) changes over HTTP on loopback"),
        BenchResult(
          name: "push", unit: "s", value: pushSeconds, reference: nil, ratio: nil,
          goal: "< 2 s for 10,000 records", met: pushSeconds < 2 * Double(records) / 10_000,
          detail:
            "\(pending) records in \(report.batches) signed batches of 500 over HTTP on loopback, \(report.accepted) accepted"
        ),
      ]
    }
  }
}

struct BenchError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

func format(_ value: Double) -> String { String(format: "%.3f", value) }

/// Verification of full presentations beside a bare loop of the same two Ed25519
/// verifications (the issuer's and the phone's) over the same bytes, measured three ways:
/// the code alone; the code and the verdict against a terminal cache of `cacheLicences`
/// licences (lookup, points ledger, verdict); and the terminal's whole `verify`, which also
/// writes the replay entry, the audit entry and the check record in one durable commit.
public struct VerifyBench {
  public let presentations: Int
  public let cacheLicences: Int
  /// How many times the loops take turns; each keeps its fastest round.
  public let rounds: Int
  public let clock: any RoadsideDomain.Clock

  public init(
    presentations: Int, cacheLicences: Int, rounds: Int = 3, clock: any RoadsideDomain.Clock
  ) {
    self.presentations = presentations
    self.cacheLicences = max(cacheLicences, presentations)
    self.rounds = max(rounds, 1)
    self.clock = clock
  }

  public func run() throws -> [BenchResult] {
    let now = clock.now()
    let licences = FixtureGenerator(
      licenceCount: cacheLicences, seed: 3, referenceDate: now.chinaDate
    )
    .generateLicences()
    let issuer = try Curve25519.Signing.PrivateKey(
      rawRepresentation: [UInt8](repeating: 1, count: 32))
    let phone = try Curve25519.Signing.PrivateKey(
      rawRepresentation: [UInt8](repeating: 2, count: 32))
    let key = IssuerKey(
      kid: "BENCH-1", publicKey: [UInt8](issuer.publicKey.rawRepresentation),
      validFrom: now.adding(seconds: -3600),
      validUntil: now.adding(seconds: 3600), state: .active)
    var counter: UInt8 = 0
    var codes: [String] = []
    var pieces: [(message1: [UInt8], sig1: [UInt8], message2: [UInt8], sig2: [UInt8])] = []
    // Presentations for licences spread over the whole cache.
    let stride = licences.count / presentations
    for index in 0..<presentations {
      let licence = licences[index * stride]
      counter &+= 1
      let credential = try CredentialIssuer.issue(
        licence: licence, epoch: licence.epoch,
        devicePublicKey: [UInt8](phone.publicKey.rawRepresentation),
        kid: "BENCH-1", issuerKey: issuer, issuedAt: now, expires: now.adding(seconds: 86_400),
        salt: { [UInt8](repeating: counter, count: 12) })
      var id = [UInt8](repeating: 0, count: 12)
      withUnsafeBytes(of: UInt64(index).bigEndian) { id.replaceSubrange(4..<12, with: $0) }
      let code = try CredentialPresenter.present(
        credential, disclose: ClaimName.allCases, deviceKey: phone, at: now, presentationID: id,
        nonce: nil)
      codes.append(code)
      // The same two signatures and messages, cut out of the code for the bare loop.
      let issuerSegments = credential.issuerPart.split(separator: ".")
      let presentation = code.split(separator: "~").last!.split(separator: ".")
      pieces.append(
        (
          Array("\(issuerSegments[0]).\(issuerSegments[1])".utf8),
          Base64URL.decode(issuerSegments[2]) ?? [],
          Array(presentation[0].utf8), Base64URL.decode(presentation[1]) ?? []
        ))
    }
    let dir = try scratchDirectory("verify")
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try VerifyBench.cache(licences, key: key, in: dir, at: now)

    let issuerKey = [UInt8](issuer.publicKey.rawRepresentation)
    let phoneKey = [UInt8](phone.publicKey.rawRepresentation)
    let ring = try store.issuerKeys()
    let today = now.chinaDate
    // The three loops take turns, `rounds` times, and each keeps its fastest round: on a
    // shared machine a neighbour's burst then costs one round, not one arm of the ratio.
    var bare = Double.infinity
    var codeOnly = Double.infinity
    var withCache = Double.infinity
    var bareValid = 0
    var valid = 0
    var outcomes: [Outcome: Int] = [:]
    for _ in 0..<rounds {
      bareValid = 0
      bare = min(
        bare,
        seconds {
          for p in pieces {
            if Ed25519.verify(publicKey: issuerKey, message: p.message1, signature: p.sig1),
              Ed25519.verify(publicKey: phoneKey, message: p.message2, signature: p.sig2)
            {
              bareValid += 1
            }
          }
        })
      var guardian = MemoryReplayGuard()
      valid = 0
      codeOnly = min(
        codeOnly,
        seconds {
          for code in codes {
            if case .success = ELicence.verify(
              code, keys: ring, now: now, expectedNonce: nil, replays: &guardian)
            {
              valid += 1
            }
          }
        })
      var againstCache = MemoryReplayGuard()
      outcomes = [:]
      withCache = min(
        withCache,
        try seconds {
          for code in codes {
            let presentation = ELicence.verify(
              code, keys: ring, now: now, expectedNonce: nil, replays: &againstCache)
            var facts: LicenceFacts?
            if case .success(let presented) = presentation,
              let text = presented.disclosed[.number], let number = try? CitizenID(text)
            {
              facts = try store.verificationFacts(number, today: today)
            }
            let verdict = Verdict.decide(
              presentation: presentation, facts: facts, cacheAgeSeconds: 0, vehicle: .c1,
              today: today)
            outcomes[verdict.outcome, default: 0] += 1
          }
        })
    }
    let terminal = Terminal(
      store: store, clock: FixedClock(now), identifiers: SeededIdentifiers(seed: 9))
    try terminal.login(officer: "900001", pin: "900001")
    let durableCount = min(codes.count, 2_000)
    let durable = try seconds {
      for code in codes.prefix(durableCount) {
        _ = try terminal.verify(code, vehicle: .c1, nonce: nil)
      }
    }
    let reference = Double(presentations) / bare
    let rate = Double(presentations) / codeOnly
    let cacheRate = Double(presentations) / withCache
    let durableRate = Double(durableCount) / durable
    let verdicts = Outcome.allCases.map { "\(outcomes[$0, default: 0]) \($0.rawValue)" }
      .joined(separator: ", ")
    return [
      BenchResult(
        name: "verify", unit: "presentations/s", value: rate, reference: reference,
        ratio: rate / reference,
        goal: "≥ 0.8× the bare pair of Ed25519 verifications", met: rate / reference >= 0.8,
        detail:
          "\(valid) of \(presentations) full presentations verified in \(format(codeOnly)) s; the bare loop (\(bareValid) valid): \(format(bare)) s; fastest of \(rounds) alternating rounds"
      ),
      BenchResult(
        name: "verify + cache", unit: "presentations/s", value: cacheRate, reference: reference,
        ratio: cacheRate / reference,
        goal: "≥ 0.8× the bare pair of Ed25519 verifications",
        met: cacheRate / reference >= 0.8,
        detail:
          "verdicts against a cache of \(licences.count) licences (\(verdicts)) in \(format(withCache)) s"
      ),
      BenchResult(
        name: "terminal verify", unit: "checks/s", value: durableRate, reference: reference,
        ratio: durableRate / reference, goal: "— (one durable commit per check)", met: true,
        detail:
          "\(durableCount) checks through Terminal.verify, each committing its replay entry, audit entry and check record (synchronous=FULL) in \(format(durable)) s"
      ),
    ]
  }

  /// A terminal cache holding `licences`, the issuer key and a bench officer (PIN 900001).
  static func cache(_ licences: [Licence], key: IssuerKey, in dir: URL, at now: Timestamp) throws
    -> TerminalStore
  {
    let store = try TerminalStore.create(
      path: dir.appendingPathComponent("terminal.sqlite").path,
      identity: TerminalIdentity(
        terminal: "T-BENCH", unit: "bench", central: "none",
        privateKey: [UInt8](repeating: 1, count: 32),
        publicKey: [UInt8](repeating: 2, count: 32), createdAt: now))
    var seq: Int64 = 0
    func change(_ entity: ChangeEntity, _ key: String, _ payload: String) -> WireChange {
      seq += 1
      return WireChange(seq: seq, at: now, entity: entity, key: key, op: .upsert, payload: payload)
    }
    let pin = try PINHash(
      pin: "900001", salt: [UInt8](repeating: 9, count: 16),
      iterations: PINHash.fixtureIterations)
    let officer = try CanonicalJSON.string(
      BenchOfficer(
        id: "900001", name: "Bench", unit: "bench",
        pinVerifier: pin.bound(to: "T-BENCH").encoded))
    var batch = [
      change(.issuerKey, key.kid, try CanonicalJSON.string(key)),
      change(.officer, "900001", officer),
    ]
    for licence in licences {
      batch.append(change(.licence, licence.number.value, try CanonicalJSON.string(licence)))
      if batch.count == ProtocolV1.maximumBatch {
        try store.apply(ChangesResponse(changes: batch, latest: seq, hasMore: true), at: now)
        batch.removeAll(keepingCapacity: true)
      }
    }
    try store.apply(ChangesResponse(changes: batch, latest: seq, hasMore: false), at: now)
    return store
  }
}

/// Cache lookups by licence number through the terminal's store, beside a bare C-API
/// prepared statement reading the same columns of the same file, in the same run.
public struct LookupBench {
  public let licences: Int
  public let lookups: Int
  public let rounds: Int
  public let clock: any RoadsideDomain.Clock

  public init(licences: Int, lookups: Int, rounds: Int = 3, clock: any RoadsideDomain.Clock) {
    self.licences = licences
    self.lookups = lookups
    self.rounds = max(1, rounds)
    self.clock = clock
  }

  public func run() throws -> [BenchResult] {
    let now = clock.now()
    let generated = FixtureGenerator(licenceCount: licences, seed: 5, referenceDate: now.chinaDate)
      .generateLicences()
    let dir = try scratchDirectory("lookup")
    defer { try? FileManager.default.removeItem(at: dir) }
    let key = IssuerKey(
      kid: "BENCH-1", publicKey: [UInt8](repeating: 3, count: 32), validFrom: now,
      validUntil: now.adding(seconds: 3600), state: .active)
    let store = try VerifyBench.cache(generated, key: key, in: dir, at: now)
    var random = SeededRandom(seed: 11)
    let numbers = (0..<lookups).map { _ in
      generated[random.int(in: 0...(generated.count - 1))].number
    }
    let texts = numbers.map(\.value)

    var db: OpaquePointer?
    sqlite3_open_v2(
      dir.appendingPathComponent("terminal.sqlite").path, &db, SQLITE_OPEN_READONLY, nil)
    defer { sqlite3_close(db) }
    var statement: OpaquePointer?
    sqlite3_prepare_v2(
      db,
      """
      SELECT number, name, gender, birth, first_issued, classes, term, valid_from, authority, status,
        epoch, suspended_until FROM licences WHERE number = ?
      """, -1, &statement, nil)
    defer { sqlite3_finalize(statement) }
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    var bare = Double.infinity
    var ours = Double.infinity
    var bareFound = 0
    var found = 0
    for _ in 0..<rounds {
      bareFound = 0
      bare = min(
        bare,
        seconds {
          for text in texts {
            sqlite3_bind_text(statement, 1, text, -1, transient)
            if sqlite3_step(statement) == SQLITE_ROW {
              // Read every column into Swift values, as a caller would.
              let number = String(cString: sqlite3_column_text(statement, 0))
              let name = String(cString: sqlite3_column_text(statement, 1))
              let numbers = (2...4).map { sqlite3_column_int64(statement, $0) }
              let texts = (5...9).map { String(cString: sqlite3_column_text(statement, $0)) }
              let epoch = sqlite3_column_int64(statement, 10)
              let suspended: Int64? =
                sqlite3_column_type(statement, 11) == SQLITE_NULL
                ? nil : sqlite3_column_int64(statement, 11)
              if !number.isEmpty, !name.isEmpty, numbers.count == 3, texts.count == 5, epoch >= 0,
                (suspended ?? 0) >= 0
              {
                bareFound += 1
              }
            }
            sqlite3_reset(statement)
          }
        })
      found = 0
      ours = min(
        ours,
        try seconds {
          for number in numbers where try store.licence(number) != nil { found += 1 }
        })
    }
    let rate = Double(lookups) / ours
    let reference = Double(lookups) / bare
    return [
      BenchResult(
        name: "lookup", unit: "lookups/s", value: rate, reference: reference,
        ratio: rate / reference, goal: "≥ 0.8× a bare C-API prepared-statement lookup",
        met: rate / reference >= 0.8,
        detail:
          "\(found) of \(lookups) random licences found in a cache of \(licences) in \(format(ours)) s (domain values: classes, status, validity); the bare statement (\(bareFound) found, columns read): \(format(bare)) s; fastest of \(rounds) alternating rounds"
      )
    ]
  }
}

private struct BenchOfficer: Encodable {
  let id: String
  let name: String
  let unit: String
  let pinVerifier: String
  var pinMustChange = false
  var unlockGeneration = 0
}
