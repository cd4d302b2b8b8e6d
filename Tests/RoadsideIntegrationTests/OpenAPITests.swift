import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RoadsideCentral
import RoadsideDomain
import RoadsideProtocol
import RoadsideSync
import RoadsideTerminal
import Testing

/// `docs/openapi.json`, and a validator for the part of JSON Schema it uses (types,
/// nullable type lists, properties, required, additionalProperties, items, enum, oneOf,
/// $ref), so that the tests check what the server sends against what the file promises.
struct OpenAPISpec: @unchecked Sendable {  // immutable after init
  let document: [String: Any]

  init() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("docs/openapi.json")
    document = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
  }

  func operation(_ method: String, _ path: String) -> [String: Any]? {
    ((document["paths"] as? [String: Any])?[path] as? [String: Any])?[method.lowercased()]
      as? [String: Any]
  }

  /// The schema the spec declares for a response, or nil when the status is not declared.
  func responseSchema(_ method: String, _ path: String, status: Int) -> [String: Any]? {
    let responses = operation(method, path)?["responses"] as? [String: Any]
    let response = responses?[String(status)] as? [String: Any]
    return ((response?["content"] as? [String: Any])?["application/json"] as? [String: Any])?[
      "schema"]
      as? [String: Any]
  }

  func requestSchema(_ method: String, _ path: String) -> [String: Any]? {
    let body = operation(method, path)?["requestBody"] as? [String: Any]
    return ((body?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
      as? [String: Any]
  }

  func resolve(_ schema: [String: Any]) -> [String: Any] {
    guard let ref = schema["$ref"] as? String else { return schema }
    let name = String(ref.split(separator: "/").last!)
    return ((document["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name]
      as! [String: Any]
  }

  /// Problems with `value` against `schema`, as paths and reasons; empty when it conforms.
  func problems(_ value: JSONValue, _ schema: [String: Any], at path: String = "$") -> [String] {
    let schema = resolve(schema)
    if let options = schema["oneOf"] as? [[String: Any]] {
      let matching = options.filter { problems(value, $0, at: path).isEmpty }
      return matching.count == 1 ? [] : ["\(path): matches \(matching.count) of the oneOf options"]
    }
    var types: [String] = []
    if let type = schema["type"] as? String { types = [type] }
    if let list = schema["type"] as? [String] { types = list }
    let json = value as! JSONValue
    if !types.isEmpty, !types.contains(json.typeName),
      !(json.typeName == "integer" && types.contains("number"))
    {
      return ["\(path): is \(json.typeName), expected \(types.joined(separator: " or "))"]
    }
    if let allowed = schema["enum"] as? [String], case .string(let text) = json,
      !allowed.contains(text)
    {
      return ["\(path): \"\(text)\" is not one of \(allowed)"]
    }
    var found: [String] = []
    if case .object(let object) = json {
      let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
      for key in schema["required"] as? [String] ?? [] where object[key] == nil {
        found.append("\(path).\(key): required but missing")
      }
      for (key, item) in object {
        if let property = properties[key] {
          found += problems(item, property, at: "\(path).\(key)")
        } else if schema["additionalProperties"] as? Bool == false {
          found.append("\(path).\(key): not declared in the schema")
        }
      }
    }
    if case .array(let array) = json, let items = schema["items"] as? [String: Any] {
      for (index, item) in array.enumerated() {
        found += problems(item, items, at: "\(path)[\(index)]")
      }
    }
    return found
  }
}

@Suite struct OpenAPIConformanceTests {
  let spec = try! OpenAPISpec()

  /// Sends a request and checks the status is declared and the body matches its schema.
  func exchange(
    _ method: HTTPMethod, _ base: String, _ path: String, query: String = "",
    body: (any Encodable)? = nil,
    rawBody: [UInt8]? = nil, signer: RequestSigner? = nil, expect status: Int
  ) async throws -> Data {
    let target = path + (query.isEmpty ? "" : "?\(query)")
    var request = HTTPClientRequest(url: base + target)
    request.method = method
    let sent = try body.map { try JSONEncoder().encode($0) } ?? rawBody.map { Data($0) } ?? Data()
    if let credentials = try signer?.sign(method: method.rawValue, target: target, body: sent)
      .credentials
    {
      for (name, value) in credentials.headers { request.headers.add(name: name, value: value) }
    }
    if body != nil {
      let data = sent
      let requestSchema = try #require(
        spec.requestSchema(method.rawValue, path), "no request body declared for \(method) \(path)")
      #expect(
        spec.problems(try JSONDecoder().decode(JSONValue.self, from: data), requestSchema) == [],
        "request of \(method) \(path)")
      request.body = .bytes(ByteBuffer(data: data))
    } else if let rawBody {
      request.body = .bytes(ByteBuffer(bytes: rawBody))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    var bytes = try await response.body.collect(upTo: 64 << 20)
    let data = bytes.readData(length: bytes.readableBytes) ?? Data()
    #expect(
      Int(response.status.code) == status,
      "\(method) \(path)?\(query): \(String(decoding: data, as: UTF8.self))")
    let schema = spec.responseSchema(method.rawValue, path, status: Int(response.status.code))
    #expect(
      schema != nil,
      "status \(response.status.code) of \(method) \(path) is not in docs/openapi.json")
    if let schema {
      #expect(
        spec.problems(try JSONDecoder().decode(JSONValue.self, from: data), schema) == [],
        "\(method) \(path) → \(status)")
    }
    return data
  }

  @Test func everyRouteAndErrorMatchesTheDocument() async throws {
    let world = try World()
    let clock = world.clock
    try await withLiveServer(world.endpoint) { url in
      _ = try await exchange(.GET, url, "/v1/health", expect: 200)
      // Registration: unsigned, an unknown terminal, a bad key, a malformed body.
      let stranger = RequestSigner(
        terminal: "T-BJ-0001", privateKey: [UInt8](repeating: 7, count: 32), clock: clock)
      let strangerKey = Data(try stranger.publicKey).base64EncodedString()
      let wrongCode = "0000-0000-0000-0000"
      _ = try await exchange(
        .POST, url, "/v1/terminals/register",
        body: RegisterRequest(
          terminal: "T-BJ-0001", publicKey: strangerKey, enrolmentCode: wrongCode),
        expect: 401)
      let unknown = RequestSigner(
        terminal: "T-XX-0001", privateKey: [UInt8](repeating: 7, count: 32), clock: clock)
      _ = try await exchange(
        .POST, url, "/v1/terminals/register",
        body: RegisterRequest(
          terminal: "T-XX-0001", publicKey: strangerKey, enrolmentCode: wrongCode),
        signer: unknown, expect: 401)
      _ = try await exchange(
        .POST, url, "/v1/terminals/register",
        body: RegisterRequest(terminal: "T-BJ-0001", publicKey: "%%", enrolmentCode: wrongCode),
        signer: stranger, expect: 400)
      _ = try await exchange(
        .POST, url, "/v1/terminals/register", rawBody: Array("{".utf8), expect: 400)
      // A stranger with the terminal's id but not its enrolment code.
      _ = try await exchange(
        .POST, url, "/v1/terminals/register",
        body: RegisterRequest(
          terminal: "T-BJ-0001", publicKey: strangerKey, enrolmentCode: wrongCode),
        signer: stranger, expect: 401)
      _ = try await exchange(.GET, url, "/v1/changes", query: "after=0", expect: 400)
      _ = try await exchange(
        .GET, url, "/v1/changes", query: "terminal=T-BJ-0001&after=0", expect: 401)
      _ = try await exchange(.GET, url, "/v1/conflicts", expect: 401)

      // Real terminals, with records that produce every acknowledgement.
      let http = HTTPTransport(baseURL: url, timeoutSeconds: liveDeadlineSeconds)
      let one = try await world.terminal("T-BJ-0001", transport: http, seed: 1)
      let two = try await world.terminal("T-BJ-0002", transport: http, officer: "010002", seed: 2)
      let (signOne, signTwo) = (try one.requestSigner(), try two.requestSigner())
      _ = try await exchange(
        .GET, url, "/v1/changes", query: "terminal=T-BJ-0001&after=0&limit=50", signer: signOne,
        expect: 200)
      _ = try await exchange(
        .GET, url, "/v1/changes", query: "terminal=T-BJ-0001&after=99999999", signer: signOne,
        expect: 409)
      _ = try await exchange(
        .GET, url, "/v1/changes", query: "terminal=T-BJ-0001&limit=0", signer: signOne,
        expect: 400)
      _ = try await exchange(
        .GET, url, "/v1/changes", query: "terminal=T-BJ-0002&after=0", signer: signOne,
        expect: 403)
      // A stranger's key signing as an enrolled terminal.
      _ = try await exchange(
        .GET, url, "/v1/changes", query: "terminal=T-BJ-0001&after=0", signer: stranger,
        expect: 401)

      try one.recordViolation(licence: driver, plate: plate, offenceCode: "0601", place: "a")
      try two.recordViolation(licence: driver, plate: plate, offenceCode: "0601", place: "a")
      let batch = try signedPendingBatch(one)
      _ = try await exchange(.POST, url, "/v1/push", body: batch, signer: signOne, expect: 200)
      _ = try await exchange(.POST, url, "/v1/push", body: batch, signer: signOne, expect: 200)
      _ = try await exchange(.POST, url, "/v1/push", body: batch, expect: 401)
      _ = try await exchange(.POST, url, "/v1/push", body: batch, signer: signTwo, expect: 403)
      // The second terminal's record of the same event: a conflict acknowledgement.
      _ = try await exchange(
        .POST, url, "/v1/push", body: try signedPendingBatch(two), signer: signTwo, expect: 200)
      var forged = try signedPendingBatch(two)
      forged.signature = try sign(forged, one)
      _ = try await exchange(.POST, url, "/v1/push", body: forged, signer: signTwo, expect: 401)
      _ = try await exchange(
        .POST, url, "/v1/push", rawBody: Array("[]".utf8), signer: signOne, expect: 400)
      _ = try await exchange(.GET, url, "/v1/conflicts", signer: signTwo, expect: 200)
      _ = try await exchange(
        .GET, url, "/v1/conflicts", query: "terminal=T-BJ-0002", signer: signTwo, expect: 200)
      _ = try await exchange(
        .GET, url, "/v1/conflicts", query: "terminal=T-BJ-0002", signer: signOne, expect: 403)
    }
  }

  @Test func theDocumentListsExactlyTheServedRoutes() throws {
    let paths = Set((spec.document["paths"] as? [String: Any] ?? [:]).keys)
    #expect(
      paths == ["/v1/health", "/v1/terminals/register", "/v1/changes", "/v1/push", "/v1/conflicts"])
    #expect(spec.document["openapi"] as? String == "3.1.0")
  }
}

/// Any JSON value, decoded strictly: `true` is a boolean, never the number 1.
indirect enum JSONValue: Decodable {
  case null
  case boolean(Bool)
  case integer(Int)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .boolean(value)
    } else if let value = try? container.decode(Int.self) {
      self = .integer(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  var typeName: String {
    switch self {
    case .null: "null"
    case .boolean: "boolean"
    case .integer: "integer"
    case .number: "number"
    case .string: "string"
    case .array: "array"
    case .object: "object"
    }
  }
}

@Suite struct SchemaValidatorTests {
  let spec = try! OpenAPISpec()

  func check(_ json: String, against name: String) throws -> [String] {
    spec.problems(
      try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)),
      ["$ref": "#/components/schemas/\(name)"])
  }

  @Test func theValidatorCatchesWhatItShould() throws {
    #expect(try check(#"{"error":{"code":"x","message":"y"}}"#, against: "ErrorResponse") == [])
    #expect(
      try check(#"{"error":{"code":1,"message":"y"}}"#, against: "ErrorResponse") == [
        "$.error.code: is integer, expected string"
      ])
    #expect(
      try check(#"{"error":{"code":"x"}}"#, against: "ErrorResponse") == [
        "$.error.message: required but missing"
      ])
    #expect(
      try check(
        #"{"status":"ok","apiVersion":1,"latest":3,"extra":true}"#, against: "HealthResponse") == [
          "$.extra: not declared in the schema"
        ])
    #expect(
      try check(#"{"status":"ok","apiVersion":true,"latest":3}"#, against: "HealthResponse") == [
        "$.apiVersion: is boolean, expected integer"
      ])
    #expect(
      !(try check(
        #"{"batchID":"b","acknowledgements":[{"recordID":"r","outcome":"maybe"}]}"#,
        against: "PushResponse"
      ).isEmpty))
  }
}
