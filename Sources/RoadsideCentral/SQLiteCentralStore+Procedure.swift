import Crypto
import Foundation
import RoadsideDomain
import RoadsideFixtures
import RoadsideProtocol
import RoadsideStorage

// The SQLite store's part of the Procedure interface.

extension Access: CentralProcedureStore {
  func notices() throws -> [(document: PenaltyDocument, state: DocumentState, decision: String?)] {
    try db.fetchAll(
      "SELECT body, state, decision FROM documents WHERE kind = 'notice' ORDER BY at DESC, number DESC"
    ) {
      (
        try JSONDecoder().decode(PenaltyDocument.self, from: Data($0.text(0).utf8)),
        try $0.value(1),
        $0.optionalText(2)
      )
    }
  }

  func insertUnitDocument(_ document: PenaltyDocument, signature: String) throws {
    try db.execute(
      "INSERT INTO documents (number, terminal, record_id, kind, licence, body, state, at, signature) VALUES (?, NULL, NULL, ?, ?, ?, 'effective', ?, ?)",
      document.number, document.kind.rawValue, document.licence,
      try CanonicalJSON.string(document),
      document.at.description, signature)
  }

  func setNotice(_ number: String, decidedBy decision: String?) throws {
    try db.execute(
      "UPDATE documents SET state = ?, decision = ? WHERE number = ? AND kind = 'notice'",
      (decision == nil ? DocumentState.effective : .decided).rawValue, decision, number)
  }

  func notice(decidedBy decision: String) throws -> String? {
    try db.fetchOne("SELECT number FROM documents WHERE decision = ?", decision) { $0.text(0) }
  }

  func decision(onNotice notice: String) throws -> String? {
    try db.fetchOne(
      "SELECT decision FROM documents WHERE number = ? AND kind = 'notice'", notice
    ) { $0.optionalText(0) } ?? nil
  }

  func educations(of licence: LicenceNumber) throws -> [FullScoreEducation] {
    try db.fetchAll(
      "SELECT licence, cycle_start, reached_on, completed_on, exam FROM full_score_educations WHERE licence = ? ORDER BY id",
      licence.value
    ) {
      FullScoreEducation(
        licence: $0.text(0), cycleStart: LocalDate(iso: $0.text(1))!,
        reachedOn: LocalDate(iso: $0.text(2))!, completedOn: LocalDate(iso: $0.text(3))!,
        exam: try $0.value(4))
    }
  }

  func insert(_ education: FullScoreEducation, at: Timestamp) throws {
    try db.execute(
      "INSERT INTO full_score_educations (licence, cycle_start, reached_on, completed_on, exam, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
      education.licence, education.cycleStart.description, education.reachedOn.description,
      education.completedOn.description, education.exam.rawValue, at.description)
  }
}
