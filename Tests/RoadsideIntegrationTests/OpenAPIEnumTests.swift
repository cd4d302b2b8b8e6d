import RoadsideProtocol
import Testing

/// The closed sets the wire names, as `docs/openapi.json` lists them and as the Swift enums
/// define them: the document may not drift from the code.
@Suite struct OpenAPIEnumTests {
  static let spec = try! OpenAPISpec()

  /// (schema, property, the Swift enum's raw values in declaration order).
  static let sets: [(String, String, [String])] = [
    ("WireChange", "entity", ChangeEntity.allCases.map(\.rawValue)),
    ("WireChange", "op", ChangeOperation.allCases.map(\.rawValue)),
    ("PushRecord", "kind", RecordKind.allCases.map(\.rawValue)),
    ("ConflictReport", "kind", ConflictKind.allCases.map(\.rawValue)),
    ("RecordAcknowledgement", "outcome", RecordOutcome.allCases.map(\.rawValue)),
    // A first acknowledgement is never itself a duplicate.
    (
      "FirstAcknowledgement", "outcome",
      RecordOutcome.allCases.filter { $0 != .duplicate }.map(\.rawValue)
    ),
    ("RegisterResponse", "status", TerminalStatus.allCases.map(\.rawValue)),
  ]

  @Test(arguments: sets.indices)
  func theDocumentListsTheEnumsValues(_ index: Int) throws {
    let (schema, property, values) = Self.sets[index]
    let schemas = try #require(
      (Self.spec.document["components"] as? [String: Any])?["schemas"] as? [String: Any])
    let properties = try #require(
      (schemas[schema] as? [String: Any])?["properties"] as? [String: Any],
      "docs/openapi.json has no schema \(schema)")
    let listed = try #require(
      (properties[property] as? [String: Any])?["enum"] as? [String],
      "\(schema).\(property) in docs/openapi.json lists no enum")
    #expect(listed == values, "\(schema).\(property)")
  }
}
