/// What a served document says to the party, in the words the terminal prints: its title, the procedure, payment and reporting terms, the
/// signature and the remedies. Rendering is presentation, but these sentences state the law
/// (行政处罚法 §72, 公安部令第157号 §44–§47, 行政复议法, 行政诉讼法), so they are written once, here.
extension PenaltyDocument {
  /// The heading of the documents of one stop, served together.
  public static let servedTogether = "道路交通安全违法行为处理文书 · Roadside penalty documents, served together"

  /// The party's remedies against a decision.
  public static let remedies =
    "administrative review within 60 days or a lawsuit within 6 months (行政复议法, 行政诉讼法)"

  /// The document's title with its number.
  public var title: String {
    switch kind {
    case .decision: "简易程序处罚决定书 · Electronic penalty decision No. \(number)"
    case .notice: "违法行为处理通知书 · Processing notice No. \(number)"
    case .certificate: "行政强制措施凭证 · Compulsory-measure certificate No. \(number)"
    }
  }

  /// The one line the officer is shown when the document is issued.
  public var issuedLine: String {
    switch kind {
    case .decision:
      "Decision \(number): \(charge.offence) \(charge.chinese) — \(penalty); pay by \(payBy.map { "\($0)" } ?? "?")"
    case .notice:
      "Processing notice \(number): \(charge.offence) \(charge.chinese) — \(penalty); report within 15 working days (by \(reportBy.map { "\($0)" } ?? "?"))"
    case .certificate:
      "Compulsory-measure certificate \(number): \(penalty) — \(withholding?.basis ?? ""); report within 15 working days (by \(reportBy.map { "\($0)" } ?? "?"))"
    }
  }

  /// The procedure the document was made under.
  public var procedureText: String {
    charge.procedure == .simple ? "simple (简易程序)" : "general (一般程序)"
  }

  /// The payment terms of a decision: the deadline, then the late-payment surcharge
  /// (行政处罚法 §72); nil for other documents.
  public var paymentText: String? {
    payBy.map { "by \($0); after that 3 % of the fine a day, at most the fine (行政处罚法 §72)" }
  }

  /// Where and by when the party reports (notices and certificates); nil for decisions.
  public var reportText: String? {
    reportBy.map { "to the traffic police unit by \($0)" }
  }

  /// How the party acknowledged the document.
  public var signatureText: String {
    partySignature == .signed ? "signed by the party" : "the party refused to sign (noted)"
  }
}
