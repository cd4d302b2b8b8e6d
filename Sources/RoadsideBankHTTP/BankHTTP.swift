public import AsyncHTTPClient
import Foundation
public import Hummingbird
public import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import RoadsideBank
public import RoadsideDomain

// The simulated bank over HTTP: `roadside bank serve` and the client central uses with
// `--bank URL`. Routes (JSON bodies, JSON errors `{"error": {"code", "message"}}`):
//   POST /v1/deductions                  DeductionRequest → DeductionResult
//   GET  /v1/deductions/{key}            → DeductionResult (404 not_found)
//   POST /v1/deductions/{key}/cancel     {"at"} → DeductionResult
//   POST /v1/deductions/{key}/refund     {"at"} → DeductionResult
//   GET  /v1/statement?date=YYYY-MM-DD   → [StatementLine]
// Bank errors map to 503 unavailable, 504 timeout, 409 key_reused, 404 not_found,
// 400 invalid; the client turns them back into `BankError`s.

struct BankErrorBody: Codable {
  struct Detail: Codable {
    let code: String
    let message: String
  }
  let error: Detail
}

struct AtBody: Codable {
  let at: Timestamp
}

extension BankError: HTTPResponseError {
  public var status: HTTPResponse.Status {
    switch kind {
    case .unavailable: .serviceUnavailable
    case .timeout: .gatewayTimeout
    case .keyReused: .conflict
    case .notFound: .notFound
    case .invalid: .badRequest
    }
  }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    json(BankErrorBody(error: .init(code: kind.rawValue, message: description)), status: status)
  }
}

func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
  let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
  return Response(
    status: status, headers: [.contentType: "application/json; charset=utf-8"],
    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
  var request = request
  let buffer = try await request.collectBody(upTo: 1 << 20)
  do {
    return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
  } catch {
    throw BankError(.invalid, "the body is not a valid \(T.self): \(error)")
  }
}

/// The bank's HTTP application, shared by `roadside bank serve` and the tests.
public func buildBankApplication(
  bank: BankEndpoint, configuration: ApplicationConfiguration, logLevel: Logger.Level = .warning,
  onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
  let router = Router()
  let v1 = router.group("v1")
  v1.post("deductions") { request, _ in
    json(try await bank.deduct(try await decode(DeductionRequest.self, from: request)))
  }
  v1.get("deductions/:key") { _, context in
    let key = try context.parameters.require("key")
    guard let result = try await bank.deduction(key) else {
      throw BankError(.notFound, "the bank has no deduction with key \(key)")
    }
    return json(result)
  }
  v1.post("deductions/:key/cancel") { request, context in
    let body = try await decode(AtBody.self, from: request)
    return json(try await bank.cancel(try context.parameters.require("key"), at: body.at))
  }
  v1.post("deductions/:key/refund") { request, context in
    let body = try await decode(AtBody.self, from: request)
    return json(try await bank.refund(try context.parameters.require("key"), at: body.at))
  }
  v1.get("statement") { request, _ in
    guard let text = request.uri.queryParameters["date"], let date = LocalDate(iso: text) else {
      throw BankError(.invalid, "the date query parameter (YYYY-MM-DD) is required")
    }
    return json(try await bank.statement(on: date))
  }
  var logger = Logger(label: "roadside.bank")
  logger.logLevel = logLevel
  return Application(
    router: router, configuration: configuration,
    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
    logger: logger)
}

/// Serves the bank until SIGINT or SIGTERM.
public func serveBank(
  bank: BankEndpoint, host: String, port: Int,
  onRunning: @escaping @Sendable (Int) async -> Void
) async throws {
  let app = buildBankApplication(
    bank: bank,
    configuration: ApplicationConfiguration(
      address: .hostname(host, port: port), serverName: "roadside-bank"),
    onServerRunning: onRunning)
  try await app.runService()
}

/// The bank over HTTP. A connection failure or a timeout is `BankError.unavailable` or
/// `.timeout`: the outcome is unknown and the caller retries with the same key.
public struct HTTPBankClient: BankClient {
  public let baseURL: String
  let client: HTTPClient
  let timeout: TimeAmount

  public init(baseURL: String, client: HTTPClient = .shared, timeoutSeconds: Int64 = 10) {
    self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    self.client = client
    self.timeout = .seconds(timeoutSeconds)
  }

  public func deduct(_ request: DeductionRequest) async throws -> DeductionResult {
    try await send(.POST, "/deductions", body: request)
  }

  public func deduction(_ key: String) async throws -> DeductionResult? {
    do {
      return try await send(.GET, "/deductions/\(key)", body: Optional<AtBody>.none)
    } catch let error as BankError where error.kind == .notFound {
      return nil
    }
  }

  public func cancel(_ key: String, at: Timestamp) async throws -> DeductionResult {
    try await send(.POST, "/deductions/\(key)/cancel", body: AtBody(at: at))
  }

  public func refund(_ key: String, at: Timestamp) async throws -> DeductionResult {
    try await send(.POST, "/deductions/\(key)/refund", body: AtBody(at: at))
  }

  public func statement(on date: LocalDate) async throws -> [StatementLine] {
    try await send(.GET, "/statement?date=\(date)", body: Optional<AtBody>.none)
  }

  func send<Body: Encodable, Answer: Decodable>(
    _ method: HTTPMethod, _ path: String, body: Body?
  ) async throws -> Answer {
    var request = HTTPClientRequest(url: baseURL + "/v1" + path)
    request.method = method
    if let body {
      request.headers.add(name: "Content-Type", value: "application/json")
      request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
    }
    let response: HTTPClientResponse
    var bytes: ByteBuffer
    do {
      response = try await client.execute(request, timeout: timeout)
      bytes = try await response.body.collect(upTo: 64 << 20)
    } catch let error as HTTPClientError where error == .deadlineExceeded {
      throw BankError(.timeout, "\(baseURL) did not answer within the timeout")
    } catch {
      throw BankError(.unavailable, "\(baseURL) is unreachable: \(error)")
    }
    let data = bytes.readData(length: bytes.readableBytes) ?? Data()
    guard (200..<300).contains(Int(response.status.code)) else {
      if let failure = try? JSONDecoder().decode(BankErrorBody.self, from: data),
        let kind = BankError.Kind(rawValue: failure.error.code)
      {
        throw BankError(kind, failure.error.message)
      }
      throw BankError(.unavailable, "\(baseURL) answered HTTP \(response.status.code)")
    }
    do {
      return try JSONDecoder().decode(Answer.self, from: data)
    } catch {
      throw BankError(.invalid, "\(baseURL) answered with a body that is not a \(Answer.self)")
    }
  }
}
