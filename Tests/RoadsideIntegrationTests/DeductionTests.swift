import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import RoadsideBank
import RoadsideBankHTTP
import RoadsideBankProtocol
import RoadsideCentralServer
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideTerminal
import Synchronization
import Testing

@testable import RoadsideCentral

/// A central store, its bank and terminal T-BJ-0001, all in one scratch home.
struct PenaltyWorld {
  let world: World
  let bankPath: String
  let bank: BankEndpoint
  let transport: InProcessTransport

  init(store: CentralStoreLocation? = nil) throws {
    world = try World(store: store)
    bankPath = world.home.appendingPathComponent("bank/bank.sqlite").path
    _ = try BankStore.create(
      path: bankPath,
      mandates: defaultSet.mandates.map {
        (licence: $0.licence.value, bank: $0.bank, account: $0.account, revoked: !$0.isActive)
      })
    bank = try BankEndpoint(path: bankPath)
    transport = InProcessTransport(endpoint: world.endpoint)
  }

  func terminal(_ id: String = "T-BJ-0001", seed: UInt8 = 1, officer: String = "010001")
    async throws -> Terminal
  {
    try await world.terminal(id, transport: transport, officer: officer, seed: seed)
  }

  /// One stop for the fixtures' driver (who has an active mandate): red light, 200 yuan.
  func redLight(_ terminal: Terminal, plate: String = "京AD00000") throws -> PenaltyDocument {
    try terminal.recordStop(
      licence: driver, plate: try Plate(plate), vehicle: .c2, offences: [("0601", 200)],
      place: "长安街", locationCode: nil, note: nil, refusedToSign: false
    ).documents[0]
  }

  func balance(of licence: LicenceNumber = driver) throws -> Money {
    let account = defaultSet.mandates.first { $0.licence == licence }!.account
    return try BankStore.open(path: bankPath).accounts().first { $0.number == account }!.balance
  }

  /// Every key charged at most once net, and central's ledger equal to the bank's.
  func expectChargedOnceAndReconciled(
    _ date: LocalDate, sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    let central = try world.central()
    let result = try await central.reconcile(on: date, bank: bank)
    #expect(result.differences == [], sourceLocation: sourceLocation)
    let lines = try await bank.statement(on: date)
    for key in Set(lines.map(\.key)) {
      let deductions = lines.filter { $0.key == key && $0.kind == .deduction }.count
      #expect(
        deductions <= 1, "\(key) deducted \(deductions) times", sourceLocation: sourceLocation)
    }
  }
}

let today = start.chinaDate

@Suite(.serialized) struct DeductionTests {
  @Test func aDecisionIsAppliedOnceAndDeductedOnce() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let before = try w.balance()
    let decision = try w.redLight(terminal)
    #expect(try terminal.lookup(driver).points?.provisional == 6)
    _ = try await terminal.push(transport: w.transport)
    let central = try w.world.central()
    #expect(try central.dossier(driver).points.total == 6)
    let run = try await central.runDeductions(bank: w.bank)
    #expect(run.settled == [decision.number])
    #expect(try w.balance() == Money(fen: before.fen - 20_000))
    // Nothing is left to do; a second run charges nothing.
    #expect(try await central.runDeductions(bank: w.bank) == DeductionRun())
    #expect(try w.balance() == Money(fen: before.fen - 20_000))
    _ = try await terminal.pull(transport: w.transport)
    #expect(try terminal.lookup(driver).points?.provisional == 0)
    #expect(try terminal.lookup(driver).points?.total == 6)
    try await w.expectChargedOnceAndReconciled(today)
  }

  @Test func aTimeoutAfterTheBankCommittedIsRetriedWithTheSameKey() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let before = try w.balance()
    let decision = try w.redLight(terminal)
    _ = try await terminal.push(transport: w.transport)
    _ = try BankStore.open(path: w.bankPath).addFault(
      .timeoutAfterCommit, after: 0, times: 1, delayMilliseconds: 0)
    let central = try w.world.central()
    let first = try await central.runDeductions(bank: w.bank)
    #expect(first.unknown == [decision.number])
    #expect(try central.deductions().first?.state == .unknown)
    // The bank did take the money; central does not know yet.
    #expect(try w.balance() == Money(fen: before.fen - 20_000))
    let second = try await central.runDeductions(bank: w.bank)
    #expect(second.settled == [decision.number])
    #expect(try central.deductions().first?.attempts == 2)
    #expect(try w.balance() == Money(fen: before.fen - 20_000))
    try await w.expectChargedOnceAndReconciled(today)
  }

  @Test func unavailableAndFailuresAreRecordedWithTheBanksReason() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let decision = try w.redLight(terminal)
    _ = try await terminal.push(transport: w.transport)
    let store = try BankStore.open(path: w.bankPath)
    _ = try store.addFault(.unavailable, after: 0, times: 1, delayMilliseconds: 0)
    _ = try store.addFault(.insufficientFunds, after: 0, times: 1, delayMilliseconds: 0)
    let central = try w.world.central()
    #expect(try await central.runDeductions(bank: w.bank).unknown == [decision.number])
    #expect(try await central.runDeductions(bank: w.bank).failed == [decision.number])
    let failed = try #require(try central.deductions().first)
    #expect(failed.state == .failed && failed.reason == "insufficient_funds")
    // The key keeps its first result: no later run takes the money.
    #expect(try await central.runDeductions(bank: w.bank) == DeductionRun())
    #expect(try await w.bank.deduction(decision.number)?.outcome == .failed)
    #expect(
      try central.dossier(driver).decisions.filter { !$0.paid }.map(\.number).contains(
        decision.number))
  }

  @Test func concurrentRetriesChargeOnce() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let before = try w.balance()
    _ = try w.redLight(terminal)
    _ = try await terminal.push(transport: w.transport)
    let path = w.world.centralPath
    let clock = w.world.clock
    let bank = w.bank
    async let a = CentralService.open(path: path, clock: clock).runDeductions(bank: bank)
    async let b = CentralService.open(path: path, clock: clock).runDeductions(bank: bank)
    let runs = try await [a, b]
    #expect(runs.flatMap(\.settled).count >= 1)
    #expect(try w.balance() == Money(fen: before.fen - 20_000))
    let deduction = try #require(try w.world.central().deductions().first)
    #expect(deduction.state == .settled)
    try await w.expectChargedOnceAndReconciled(today)
  }

  @Test func centralStoppingBetweenSettledAndMarkedPaidDoesNotChargeAgain() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let before = try w.balance()
    let decision = try w.redLight(terminal)
    _ = try await terminal.push(transport: w.transport)
    // What a run does up to the bank's answer, then central "crashes": the attempt is
    // claimed (requested) and the bank settled, but central never recorded the answer.
    let central = try w.world.central()
    try central.store.write { tx in
      try tx.updateDeduction(
        decision.number, state: .requested, reason: nil, amount: Money(yuan: 200), attempt: true,
        at: w.world.clock.now())
    }
    _ = try await w.bank.deduct(
      DeductionRequest(
        key: decision.number, licence: driver.value,
        account: defaultSet.mandates.first { $0.licence == driver }!.account,
        amount: Money(yuan: 200), at: w.world.clock.now()))
    let restarted = try w.world.central()
    let run = try await restarted.runDeductions(bank: w.bank)
    #expect(run.settled == [decision.number])
    #expect(try w.balance() == Money(fen: before.fen - 20_000))
    try await w.expectChargedOnceAndReconciled(today)
  }

  @Test func duplicateAndReplayedPushesApplyTheDecisionOnce() async throws {
    let w = try PenaltyWorld()
    let lossy = LossyTransport(w.transport)
    let terminal = try await w.terminal()
    let decision = try w.redLight(terminal)
    // The first push reaches central but its answer is lost; the terminal sends it again.
    lossy.dropNextResponse()
    _ = try await terminal.push(transport: lossy, sleep: { _ in })
    #expect(lossy.delivered.count == 2)
    // An old batch replayed later, after a void and more records.
    _ = try terminal.voidDocument(decision.number, reason: "wrong plate")
    _ = try await terminal.push(transport: lossy, sleep: { _ in })
    let replay = try await w.transport.push(
      lossy.delivered[0], signer: try terminal.requestSigner())
    #expect(replay.acknowledgements.allSatisfy { $0.outcome == .duplicate })
    let central = try w.world.central()
    #expect(try central.dossier(driver).points.total == 0)
    #expect(try central.deductions().first?.state == .cancelled)
    #expect(try await central.runDeductions(bank: w.bank) == DeductionRun())
    #expect(try await w.bank.deduction(decision.number) == nil)
  }

  @Test func aVoidAfterTheDeductionIsRefundedExactlyOnce() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let before = try w.balance()
    let decision = try w.redLight(terminal)
    _ = try await terminal.push(transport: w.transport)
    let central = try w.world.central()
    _ = try await central.runDeductions(bank: w.bank)
    _ = try terminal.voidDocument(decision.number, reason: "camera shows green")
    let pushed = try await terminal.push(transport: w.transport)
    #expect(pushed.conflicts == 1)
    #expect(try central.conflicts().map(\.kind) == [.voidAfterDeduction])
    // The refund fails once (the bank is down), then goes through, once.
    _ = try BankStore.open(path: w.bankPath).addFault(
      .unavailable, after: 0, times: 1, delayMilliseconds: 0)
    #expect(try await central.runDeductions(bank: w.bank).unknown == [decision.number])
    #expect(try await central.runDeductions(bank: w.bank).reversed == [decision.number])
    #expect(try await central.runDeductions(bank: w.bank) == DeductionRun())
    #expect(try w.balance() == before)
    #expect(try central.dossier(driver).points.total == 0)
    try await w.expectChargedOnceAndReconciled(today)
  }

  @Test func aCounterPaymentBeforeTheDeductionCancelsIt() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let before = try w.balance()
    let decision = try w.redLight(terminal)
    _ = try await terminal.push(transport: w.transport)
    let central = try w.world.central()
    let (paid, conflict) = try central.payAtCounter(decision.number)
    #expect(paid.paid)
    #expect(conflict?.kind == .paidBeforeDeduction)
    #expect(try central.deductions().first?.state == .cancelled)
    #expect(try await central.runDeductions(bank: w.bank) == DeductionRun())
    #expect(try w.balance() == before)
    #expect(throws: DomainError.self) { try central.payAtCounter(decision.number) }
  }

  @Test func aCounterPaymentWhileTheOutcomeIsUnknownRefundsWhatTheBankTook() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let before = try w.balance()
    let decision = try w.redLight(terminal)
    _ = try await terminal.push(transport: w.transport)
    _ = try BankStore.open(path: w.bankPath).addFault(
      .timeoutAfterCommit, after: 0, times: 1, delayMilliseconds: 0)
    let central = try w.world.central()
    _ = try await central.runDeductions(bank: w.bank)
    _ = try central.payAtCounter(decision.number)
    #expect(try central.deductions().first?.state == .cancelPending)
    let run = try await central.runDeductions(bank: w.bank)
    #expect(run.reversed == [decision.number])
    #expect(try w.balance() == before)
    try await w.expectChargedOnceAndReconciled(today)
  }

  @Test func theAmountIsTheFinePlusTheSurchargeDueOnTheDebitDate() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let decision = try w.redLight(terminal)
    _ = try await terminal.push(transport: w.transport)
    _ = try BankStore.open(path: w.bankPath).addFault(
      .unavailable, after: 0, times: 1, delayMilliseconds: 0)
    let central = try w.world.central()
    // Day 16 after service: one day late, 3 % of 200 yuan.
    w.world.clock.set(Timestamp(iso: "2026-12-08T09:00:00+08:00")!)
    _ = try await central.runDeductions(bank: w.bank)
    #expect(try central.deductions().first?.amount == Money(fen: 20_600))
    // A retry weeks later asks for the same amount: the key's amount never changes.
    w.world.clock.set(Timestamp(iso: "2027-03-01T09:00:00+08:00")!)
    #expect(try await central.runDeductions(bank: w.bank).settled == [decision.number])
    #expect(try await w.bank.deduction(decision.number)?.amount == Money(fen: 20_600))
  }

  @Test func twoTerminalsDecidingTheSameEventChargeAndScoreOnce() async throws {
    let w = try PenaltyWorld()
    let first = try await w.terminal("T-BJ-0001", seed: 1)
    let second = try await w.terminal("T-BJ-0002", seed: 2, officer: "010002")
    _ = try w.redLight(first)
    _ = try w.redLight(second)
    _ = try await first.push(transport: w.transport)
    let report = try await second.push(transport: w.transport)
    #expect(report.conflicts == 1)
    let central = try w.world.central()
    #expect(try central.dossier(driver).points.total == 6)
    #expect(try await central.runDeductions(bank: w.bank).settled.count == 1)
    try await w.expectChargedOnceAndReconciled(today)
  }
}

/// The bank driven by central, in-process and over HTTP (the bank on its own is
/// `RoadsideBankTests`).
@Suite struct BankTests {
  @Test func realStatesFailDeductionsToo() async throws {
    let w = try PenaltyWorld()
    let store = try BankStore.open(path: w.bankPath)
    let account = defaultSet.mandates.first { $0.licence == driver }!.account
    try store.setBalance(account, Money(yuan: 5))
    let poor = try await w.bank.deduct(
      DeductionRequest(
        key: "P", licence: driver.value, account: account, amount: Money(yuan: 6), at: start))
    #expect(poor.reason == "insufficient_funds")
    try store.revokeMandate(licence: driver.value)
    let revoked = try await w.bank.deduct(
      DeductionRequest(
        key: "R", licence: driver.value, account: account, amount: Money(yuan: 1), at: start))
    #expect(revoked.reason == "mandate_revoked")
  }

  @Test func theBankOverHTTPOnLoopback() async throws {
    let w = try PenaltyWorld()
    let terminal = try await w.terminal()
    let decision = try w.redLight(terminal)
    _ = try await terminal.push(transport: w.transport)
    let secret = [UInt8](repeating: 7, count: 32)
    try BankStore.open(path: w.bankPath).addClient("central", secret: secret, at: start)
    let (path, clock, bankPath) = (w.world.centralPath, w.world.clock, w.bankPath)
    let app = try buildBankApplication(
      bank: w.bank,
      configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
      now: { clock.now() })
    try await app.test(.live) { client in
      let central = try CentralService.open(path: path, clock: clock)
      let port = try #require(client.port)
      let http = HTTPBankClient(
        baseURL: "http://127.0.0.1:\(port)", secret: secret, clock: clock,
        timeoutSeconds: liveDeadlineSeconds)
      _ = try BankStore.open(path: bankPath).addFault(
        .timeoutAfterCommit, after: 0, times: 1, delayMilliseconds: 0)
      #expect(try await central.runDeductions(bank: http).unknown == [decision.number])
      #expect(try await central.runDeductions(bank: http).settled == [decision.number])
      #expect(try await http.deduction(decision.number)?.outcome == .settled)
      #expect(try await http.deduction("nothing-here") == nil)
      let result = try await central.reconcile(on: today, bank: http)
      #expect(result.differences.isEmpty && result.bankDeductions == 1)
      await #expect(throws: BankError.self) { _ = try await http.refund("nothing-here", at: start) }
    }
    let unreachable = HTTPBankClient(
      baseURL: "http://127.0.0.1:1", secret: secret, clock: w.world.clock)
    let error = await #expect(throws: BankError.self) {
      _ = try await unreachable.statement(on: today)
    }
    #expect(error?.kind == .unavailable)
  }
}

/// The bank's HTTP API against callers that are not central: unsigned, badly signed or
/// stale requests get 401 with a JSON error; another authenticated client cannot see,
/// cancel or refund central's keys; an amount of zero or less is a JSON 400. Nothing
/// changes at the bank.
@Suite struct HostileBankClientTests {
  func raw(_ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (Int, String) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    var bytes = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), bytes.readString(length: bytes.readableBytes) ?? "")
  }

  @Test func strangersAreRefusedAndNothingChanges() async throws {
    let w = try PenaltyWorld()
    let store = try BankStore.open(path: w.bankPath)
    let secret = [UInt8](repeating: 7, count: 32)
    let other = [UInt8](repeating: 9, count: 32)
    try store.addClient("central", secret: secret, at: start)
    try store.addClient("mallory", secret: other, at: start)
    let account = try #require(defaultSet.mandates.first { $0.licence == driver && $0.isActive })
      .account
    let clock = w.world.clock
    let settled = try await w.bank.deduct(
      DeductionRequest(
        key: "110000202600000001", licence: driver.value, account: account,
        amount: Money(yuan: 200), at: start))
    #expect(settled.outcome == .settled)
    let balance = try store.accounts().first { $0.number == account }?.balance
    let app = try buildBankApplication(
      bank: w.bank,
      configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
      now: { clock.now() })
    try await app.test(.live) { client in
      let url = "http://127.0.0.1:\(try #require(client.port))"
      // Unsigned: 401 with a JSON body naming the headers.
      let body =
        "{\"key\":\"X1\",\"licence\":\"\(driver.value)\",\"account\":\"\(account)\",\"amount\":{\"fen\":20000},\"at\":\"\(start)\"}"
      var (status, text) = try await raw(.POST, "\(url)/v1/deductions", body: body)
      #expect(status == 401)
      #expect(text.contains("\"code\":\"unauthenticated\""))
      (status, text) = try await raw(
        .POST, "\(url)/v1/deductions/110000202600000001/refund", body: "{\"at\":\"\(start)\"}")
      #expect(status == 401)
      (status, _) = try await raw(.TRACE, "\(url)/v1/statement")
      #expect(status == 401)

      // Signed with a wrong secret, or with a time ten minutes off.
      let forged = HTTPBankClient(
        baseURL: url, secret: other, clock: clock, timeoutSeconds: liveDeadlineSeconds)
      let forgedError = await #expect(throws: BankError.self) {
        _ = try await forged.statement(on: today)
      }
      #expect(forgedError?.kind == .unauthenticated)
      let late = HTTPBankClient(
        baseURL: url, secret: secret, clock: FixedClock(clock.now().adding(seconds: 600)),
        timeoutSeconds: liveDeadlineSeconds)
      let lateError = await #expect(throws: BankError.self) {
        _ = try await late.statement(on: today)
      }
      #expect(lateError?.kind == .unauthenticated)

      // Another client: central's keys are not its to see, cancel or refund.
      let mallory = HTTPBankClient(
        baseURL: url, name: "mallory", secret: other, clock: clock,
        timeoutSeconds: liveDeadlineSeconds)
      #expect(try await mallory.deduction("110000202600000001") == nil)
      #expect(try await mallory.statement(on: today).isEmpty)
      let refund = await #expect(throws: BankError.self) {
        _ = try await mallory.refund("110000202600000001", at: start)
      }
      #expect(refund?.kind == .notFound)
      let cancel = await #expect(throws: BankError.self) {
        _ = try await mallory.cancel("110000202600000001", at: start)
      }
      #expect(cancel?.kind == .notFound)
      let reuse = await #expect(throws: BankError.self) {
        _ = try await mallory.deduct(
          DeductionRequest(
            key: "110000202600000001", licence: driver.value, account: account,
            amount: Money(yuan: 200), at: start))
      }
      #expect(reuse?.kind == .keyReused)

      // Central itself: an amount of zero or less is a JSON 400, not a 500.
      let central = HTTPBankClient(
        baseURL: url, secret: secret, clock: clock, timeoutSeconds: liveDeadlineSeconds)
      for fen in [0, -20_000] as [Int64] {
        let refused = await #expect(throws: BankError.self) {
          _ = try await central.deduct(
            DeductionRequest(
              key: "110000202600000002", licence: driver.value, account: account,
              amount: Money(fen: fen), at: start))
        }
        #expect(refused?.kind == .invalid)
        #expect(refused?.description.hasPrefix("a deduction's amount must be more than 0") == true)
      }
      #expect(try await central.deduction("110000202600000001")?.outcome == .settled)
    }
    #expect(try store.accounts().first { $0.number == account }?.balance == balance)
    #expect(try await w.bank.deduction("110000202600000002") == nil)
  }
}

/// A transport that can lose the answer to a push after central received it.
final class LossyTransport: CentralTransport {
  let base: InProcessTransport
  private let state = Mutex<(drop: Bool, delivered: [PushBatch])>((false, []))

  init(_ base: InProcessTransport) { self.base = base }

  func dropNextResponse() { state.withLock { $0.drop = true } }
  var delivered: [PushBatch] { state.withLock { $0.delivered } }

  func health() async throws -> HealthResponse { try await base.health() }
  func register(_ request: RegisterRequest, signer: RequestSigner) async throws
    -> RegisterResponse
  {
    try await base.register(request, signer: signer)
  }
  func changes(terminal: String, after: Int64, limit: Int, signer: RequestSigner) async throws
    -> ChangesResponse
  {
    try await base.changes(terminal: terminal, after: after, limit: limit, signer: signer)
  }
  func push(_ batch: PushBatch, signer: RequestSigner) async throws -> PushResponse {
    let response = try await base.push(batch, signer: signer)
    let dropped = state.withLock { state in
      state.delivered.append(batch)
      defer { state.drop = false }
      return state.drop
    }
    if dropped { throw TransportError("the answer was lost on the way back") }
    return response
  }
}

@Suite(.serialized) struct MergedPointsTests {
  @Test func decisionsOfTwoOfflineTerminalsCrossTwelveOnlyAtCentral() async throws {
    let w = try PenaltyWorld()
    let first = try await w.terminal("T-BJ-0001", seed: 1)
    let second = try await w.terminal("T-BJ-0002", seed: 2, officer: "010002")
    // Each terminal sees 0 points and decides on the spot: 9 here, 3 there, different events.
    let nine = try first.recordStop(
      licence: driver, plate: plate, vehicle: .c2, offences: [("0906", 200)], place: "东三环",
      locationCode: nil, note: nil, refusedToSign: false)
    let three = try second.recordStop(
      licence: driver, plate: plate, vehicle: .c2, offences: [("0304", 200)], place: "西二环",
      locationCode: nil, note: nil, refusedToSign: false)
    #expect(nine.withholding == nil && three.withholding == nil)
    _ = try await first.push(transport: w.transport)
    let report = try await second.push(transport: w.transport)
    #expect(report.conflicts == 1)
    let central = try w.world.central()
    #expect(try central.conflicts().map(\.kind) == [.pointsCross12])
    let dossier = try central.dossier(driver)
    #expect(dossier.points.total == 12)
    #expect(dossier.licence.status.contains(.pointsFull))
  }
}

/// A bank in front of another: what it does not change, it passes on.
protocol ForwardingBank: BankClient {
  var bank: any BankClient { get }
}

extension ForwardingBank {
  func deduction(_ key: String) async throws -> DeductionResult? { try await bank.deduction(key) }
  func cancel(_ key: String, at: Timestamp) async throws -> DeductionResult {
    try await bank.cancel(key, at: at)
  }
  func refund(_ key: String, at: Timestamp) async throws -> DeductionResult {
    try await bank.refund(key, at: at)
  }
  func statement(on date: LocalDate) async throws -> [StatementLine] {
    try await bank.statement(on: date)
  }
}

/// A bank that counts the deductions it is asked for, and answers slowly: the window in
/// which a second worker would send the same deduction again.
final class CountingBank: ForwardingBank {
  let bank: any BankClient
  let delay: Duration
  let asked = Mutex<[String: Int]>([:])

  init(bank: any BankClient, delay: Duration) {
    self.bank = bank
    self.delay = delay
  }

  func deduct(_ request: DeductionRequest) async throws -> DeductionResult {
    asked.withLock { $0[request.key, default: 0] += 1 }
    try await Task.sleep(for: delay)
    return try await bank.deduct(request)
  }
}

/// `central deduct` on several nodes (or twice on one) at once: each deduction is sent to
/// the bank once, by whichever worker claimed it.
@Suite struct ConcurrentDeductionTests {
  static var engines: [String] { TestPostgres.available ? ["sqlite", "postgresql"] : ["sqlite"] }

  @Test(arguments: engines)
  func twoRunsAtOnceSendEachDeductionOnce(_ engine: String) async throws {
    let w = try PenaltyWorld(
      store: engine == "postgresql" ? .postgresql(try TestPostgres.freshDatabase("deduct")) : nil)
    let terminal = try await w.terminal()
    // Three stops 20 minutes apart (past the 10-minute window of one event), a seat belt each (1 point, 50 yuan): three decisions,
    // three deductions through the driver's mandate.
    for _ in 0..<3 {
      _ = try terminal.recordStop(
        licence: driver, plate: try Plate("京AD00000"), vehicle: .c2, offences: [("0111", 50)],
        place: "长安街", locationCode: nil, note: nil, refusedToSign: false)
      w.world.clock.advance(seconds: 1_200)
    }
    _ = try await terminal.push(transport: w.transport)
    let bank = CountingBank(bank: w.bank, delay: .milliseconds(150))
    let (one, two) = (Node(try w.world.central()), Node(try w.world.central()))
    async let first = one.service.runDeductions(bank: bank)
    async let second = two.service.runDeductions(bank: bank)
    let runs = try await [first, second]
    let asked = bank.asked.withLock { $0 }
    #expect(asked.count == 3)
    #expect(asked.values.allSatisfy { $0 == 1 }, "each deduction was sent once: \(asked)")
    #expect(runs.flatMap(\.settled).sorted() == asked.keys.sorted())
    try await w.expectChargedOnceAndReconciled(w.world.clock.now().chinaDate)
  }
}

/// A bank that takes the money and loses its answer (a timeout): central's deduction is left
/// `unknown`, and the bank's answer to the same key is what a retry would record.
final class AnswerLosingBank: ForwardingBank {
  let bank: any BankClient

  init(bank: any BankClient) { self.bank = bank }

  func deduct(_ request: DeductionRequest) async throws -> DeductionResult {
    _ = try await bank.deduct(request)
    throw BankError(.timeout, "the answer was lost on the way back")
  }
}

/// The bank's answer and a void of the decision at two nodes at the same instant.
@Suite(.enabled(if: TestPostgres.available, "needs ROADSIDE_TEST_POSTGRES_URL"))
struct VoidAgainstAnswerTests {
  /// The bank has taken the money for a decision; node A records the bank's answer (as a
  /// retry of the lost one would) while node B applies the terminal's void of the decision,
  /// both released at once from threads of their own, round after round. Recording an
  /// answer and applying a void both lock the decision's licence, so whichever comes second
  /// sees the other. The fine is never both voided and kept: each deduction ends refunded,
  /// and the driver has every yuan back.
  @Test func aBankAnswerAndAVoidAtTwoNodesAtOnceNeverKeepAVoidedFine() async throws {
    let w = try PenaltyWorld(store: .postgresql(try TestPostgres.freshDatabase("voidrace")))
    let terminal = try await w.terminal()
    let capture = CapturingTransport(w.transport)
    let before = try w.balance()
    let (nodeA, nodeB) = (Node(try w.world.central()), Node(try w.world.central()))
    var orders: Set<String> = []
    // Microseconds by which the void (negative) or the answer (positive) is held back after
    // the release: near nought they race, over the window in which one node has read and
    // not yet written; the ends make sure each order is met.
    let offsets = [-200_000, 200_000] + stride(from: -6_000, through: 6_000, by: 500).map { $0 }
    for (round, offset) in offsets.enumerated() {
      let decision = try w.redLight(terminal)
      _ = try await terminal.push(transport: w.transport)
      let lost = try await nodeA.service.runDeductions(bank: AnswerLosingBank(bank: w.bank))
      #expect(lost.unknown == [decision.number], "round \(round)")
      let answer = try #require(try await w.bank.deduction(decision.number))
      #expect(answer.outcome == .settled, "round \(round): the bank has taken the money")
      _ = try terminal.voidDocument(decision.number, reason: "camera shows green")
      _ = try? await terminal.push(transport: capture, attempts: 1)
      let void = try #require(capture.batches.last)
      let results = await withCheckedContinuation { continuation in
        Thread {
          continuation.resume(
            returning: simultaneously(
              { () throws -> PushResponse? in
                if offset > 0 { Thread.sleep(forTimeInterval: Double(offset) / 1_000_000) }
                var run = DeductionRun()
                try nodeA.service.record(answer, of: decision.number, run: &run)
                return nil
              },
              {
                if offset < 0 { Thread.sleep(forTimeInterval: Double(-offset) / 1_000_000) }
                return try nodeB.service.push(void)
              }))
        }.start()
      }
      _ = try results[0].get()
      let pushed = try #require(try results[1].get())
      #expect(pushed.acknowledgements.allSatisfy { $0.outcome != .rejected }, "round \(round)")
      _ = try await terminal.push(transport: w.transport)
      for _ in 0..<3 { _ = try await nodeA.service.runDeductions(bank: w.bank) }
      let deduction = try nodeA.service.deductions().first { $0.decision == decision.number }
      #expect(deduction?.state == .reversed, "round \(round): \(String(describing: deduction))")
      // A void that locked first left the answer to find the fine no longer owed; an answer
      // that locked first left the void to find it settled.
      orders.insert(
        deduction?.reason == "settled after the fine stopped being owed" ? "void" : "answer")
      #expect(try w.balance() == before, "round \(round)")
      w.world.clock.advance(seconds: 1_200)
    }
    #expect(try nodeA.service.dossier(driver).points.total == 0)
    try await w.expectChargedOnceAndReconciled(w.world.clock.now().chinaDate)
    #expect(orders == ["answer", "void"], "each order was met: \(orders.sorted())")
  }
}
