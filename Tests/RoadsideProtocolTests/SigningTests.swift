import Foundation
import RoadsideDomain
import RoadsideProtocol
import Testing

/// The one canonical encoder and the one signing helper of the protocol.
@Suite struct SigningTests {
  static let at = Timestamp(iso: "2026-11-22T09:30:00+08:00")!
  let key = try! SigningKey(seed: [UInt8](repeating: 7, count: 32))

  func batch(_ records: [PushRecord] = []) -> PushBatch {
    PushBatch(terminal: "T-BJ-0001", batchID: "b-1", sentAt: Self.at, records: records)
  }

  @Test func canonicalJSONSortsKeysAndKeepsSlashes() throws {
    struct Value: Encodable {
      let zeta = 1
      let alpha = "a/b"
    }
    #expect(try CanonicalJSON.string(Value()) == #"{"alpha":"a/b","zeta":1}"#)
  }

  @Test func aSeedThatIsNot32BytesIsRefused() {
    #expect(throws: SigningError("the signing key is not a 32-byte Ed25519 seed")) {
      _ = try SigningKey(seed: [UInt8](repeating: 1, count: 31))
    }
  }

  @Test func aKeyKeepsItsSeedAndPublicKey() throws {
    let again = try SigningKey(seed: key.seed)
    #expect(again.publicKey == key.publicKey && key.publicKey.count == 32)
    #expect(SigningKey.generate().publicKey != key.publicKey)
  }

  @Test func aSignedBatchVerifiesWithItsKeyAndNoOther() throws {
    let record = PushRecord(
      recordID: "r-1", kind: .check, terminalSeq: 1, createdAt: Self.at, payload: "{}")
    let signed = try batch([record]).signed(by: key)
    let publicKey = Data(key.publicKey).base64EncodedString()
    #expect(signed.isSigned(byBase64Key: publicKey))
    let other = Data(SigningKey.generate().publicKey).base64EncodedString()
    #expect(!signed.isSigned(byBase64Key: other))
    #expect(!signed.isSigned(byBase64Key: nil))
    #expect(!signed.isSigned(byBase64Key: "not base64"))
    // The signature covers the records: another batch under the same signature fails.
    var altered = batch([record, record])
    altered.signature = signed.signature
    #expect(!altered.isSigned(byBase64Key: publicKey))
  }

  @Test func theSignatureIsNotPartOfWhatItSigns() throws {
    let signed = try batch().signed(by: key)
    #expect(try signed.signingBytes() == batch().signingBytes())
  }

  @Test func aSignatureThatIsNotBase64VerifiesNothing() {
    #expect(!SignatureCheck.isValid("%%%", by: key.publicKey, over: Data("x".utf8)))
    #expect(
      !SignatureCheck.isValid(try! key.sign(Data("x".utf8)), by: [1, 2, 3], over: Data("x".utf8)))
    #expect(
      SignatureCheck.isValid(try! key.sign(Data("x".utf8)), by: key.publicKey, over: Data("x".utf8))
    )
  }
}

/// The closed sets of the wire.
@Suite struct KindsTests {
  @Test(arguments: DocumentKind.allCases)
  func aDocumentKindIsTheRecordKindThatCarriesIt(_ kind: DocumentKind) {
    #expect(RecordKind(kind).document == kind)
    #expect(RecordKind(kind).rawValue == kind.rawValue)
  }

  @Test func onlyDocumentRecordsCarryADocument() {
    #expect(
      RecordKind.allCases.filter { $0.document != nil } == [.decision, .notice, .certificate])
  }

  @Test func theKindsAreListedAsASentence() {
    #expect(
      RecordKind.spokenList
        == "audit, check, violation, decision, notice, certificate, void and pin_change")
  }

  @Test func anUnknownKindStaysReadableOnTheWire() throws {
    let record = PushRecord(
      recordID: "r", kind: "junk", terminalSeq: 1, createdAt: Timestamp(secondsSinceEpoch: 0),
      payload: "{}")
    #expect(record.recordKind == nil && record.kind == "junk")
  }

  @Test func statesPrintAsTheyAreSpelt() {
    #expect("\(DeductionState.refundPending)" == "refund_pending")
    #expect("\(ConflictKind.pointsCross12)" == "points_cross_12")
    #expect("\(ChangeEntity.numberRange)" == "number_range")
  }
}

/// What a terminal does with a closed-set value it does not know: a protocol error that says
/// to update, never a guess.
@Suite struct UnknownValueTests {
  func changes(entity: String = "licence", op: String = "upsert") -> Data {
    Data(
      """
      {"changes": [{"seq": 1, "at": "2026-11-22T09:30:00+08:00", "entity": "\(entity)",
      "key": "k", "op": "\(op)", "payload": "{}"}], "latest": 1, "hasMore": false}
      """.utf8)
  }

  @Test func aKnownChangeDecodes() throws {
    let response = try JSONDecoder().decode(ChangesResponse.self, from: changes())
    #expect(response.changes.first?.entity == .licence)
  }

  @Test func anUnknownEntitySaysToUpdate() {
    #expect(
      throws: UnknownProtocolValue(
        "central sent a change of kind \"hologram\" this terminal does not know; update roadside")
    ) { _ = try JSONDecoder().decode(ChangesResponse.self, from: changes(entity: "hologram")) }
  }

  @Test func anUnknownOperationSaysToUpdate() {
    #expect(
      throws: UnknownProtocolValue(
        "central sent a change operation \"merge\" this terminal does not know; update roadside")
    ) { _ = try JSONDecoder().decode(ChangesResponse.self, from: changes(op: "merge")) }
  }

  @Test func anUnknownOutcomeSaysToUpdate() {
    let body = Data(#"{"recordID": "r", "outcome": "deferred"}"#.utf8)
    #expect(
      throws: UnknownProtocolValue(
        "central acknowledged a record with the outcome \"deferred\", which this terminal does not know; update roadside"
      )
    ) { _ = try JSONDecoder().decode(RecordAcknowledgement.self, from: body) }
  }
}
