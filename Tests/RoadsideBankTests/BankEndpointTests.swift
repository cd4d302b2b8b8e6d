import Foundation
import RoadsideBank
import RoadsideBankProtocol
import RoadsideDomain
import Testing

/// The simulated bank on its own file: idempotent keys, refunds, injected failures, clients.
@Suite struct BankEndpointTests {
  static let at = Timestamp(iso: "2026-11-22T09:30:00+08:00")!
  static let licence = "110114197811271869"
  static let account = "6222020200112233"

  /// A bank with one account (3,000 yuan) and an active mandate for `licence`.
  func bank() throws -> (BankEndpoint, String) {
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("roadside-bank-\(UUID().uuidString)/bank.sqlite").path
    let store = try BankStore.create(
      path: path,
      mandates: [(licence: Self.licence, bank: "ICBC", account: Self.account, revoked: false)])
    try store.setBalance(Self.account, Money(yuan: 3_000))
    return (try BankEndpoint(path: path), path)
  }

  func request(_ key: String, yuan: Int = 100, at: Timestamp = at) -> DeductionRequest {
    DeductionRequest(
      key: key, licence: Self.licence, account: Self.account, amount: Money(yuan: yuan), at: at)
  }

  @Test func aKeyKeepsItsFirstResultAndRefusesAnotherAmount() async throws {
    let (bank, _) = try bank()
    let first = try await bank.deduct(request("110000202699999999"))
    #expect(first.outcome == .settled)
    #expect(try await bank.deduct(request("110000202699999999")) == first)
    await #expect(throws: BankError.self) {
      _ = try await bank.deduct(request("110000202699999999", yuan: 101))
    }
    #expect(try await bank.refund("110000202699999999", at: Self.at).outcome == .reversed)
    #expect(try await bank.refund("110000202699999999", at: Self.at).outcome == .reversed)
    // Keys never expire: years later the key still answers with its (now reversed) result.
    let later = request("110000202699999999", at: Timestamp(iso: "2036-01-01T00:00:00+08:00")!)
    #expect(try await bank.deduct(later).outcome == .reversed)
  }

  @Test(arguments: [
    (BankFault.Kind.mandateRevoked, "mandate_revoked"), (.accountClosed, "account_closed"),
    (.insufficientFunds, "insufficient_funds"),
  ])
  func injectedFailuresAreTheFirstResult(_ kind: BankFault.Kind, _ reason: String) async throws {
    let (bank, path) = try bank()
    _ = try BankStore.open(path: path).addFault(kind, after: 1, times: 1, delayMilliseconds: 0)
    #expect(try await bank.deduct(request("K-1")).outcome == .settled)
    let failed = try await bank.deduct(request("K-2"))
    #expect(failed.outcome == .failed && failed.reason == reason)
    #expect(try await bank.deduct(request("K-2")) == failed)
    #expect(try await bank.deduct(request("K-3")).outcome == .settled)
  }

  @Test func aLowBalanceFailsAndTakesNothing() async throws {
    let (bank, path) = try bank()
    try BankStore.open(path: path).setBalance(Self.account, Money(yuan: 5))
    let poor = try await bank.deduct(request("P", yuan: 6))
    #expect(poor.outcome == .failed && poor.reason == "insufficient_funds")
    #expect(try BankStore.open(path: path).accounts().first?.balance == Money(yuan: 5))
  }

  @Test func aCancelledKeyRefusesALaterDeduction() async throws {
    let (bank, _) = try bank()
    #expect(try await bank.cancel("C-1", at: Self.at).outcome == .cancelled)
    #expect(try await bank.deduct(request("C-1")).outcome == .cancelled)
    await #expect(throws: BankError.self) { _ = try await bank.refund("C-1", at: Self.at) }
  }

  @Test func theStatementListsTheDaysDeductionsAndRefunds() async throws {
    let (bank, _) = try bank()
    _ = try await bank.deduct(request("S-1"))
    _ = try await bank.deduct(request("S-2", yuan: 50))
    _ = try await bank.refund("S-2", at: Self.at)
    let lines = try await bank.statement(on: Self.at.chinaDate)
    #expect(lines.map(\.kind) == [.deduction, .deduction, .refund])
    #expect(lines.map(\.key) == ["S-1", "S-2", "S-2"])
  }
}
