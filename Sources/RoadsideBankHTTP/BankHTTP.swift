public import AsyncHTTPClient
import Crypto
import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import NIOSSL
public import RoadsideBank
public import RoadsideBankProtocol
public import RoadsideDomain
import RoadsideServing

// The simulated bank over HTTP: `roadside bank serve` and the client central uses with
// `--bank URL`. Routes (JSON bodies, JSON errors `{"error": {"code", "message"}}`):
//   POST /v1/deductions                  DeductionRequest → DeductionResult
//   GET  /v1/deductions/{key}            → DeductionResult (404 not_found)
//   POST /v1/deductions/{key}/cancel     {"at"} → DeductionResult
//   POST /v1/deductions/{key}/refund     {"at"} → DeductionResult
//   GET  /v1/statement?date=YYYY-MM-DD   → [StatementLine]
// Bank errors map to 503 unavailable, 504 timeout, 409 key_reused, 404 not_found,
// 400 invalid, 401 unauthenticated; the client turns them back into `BankError`s.
//
// Every request is authenticated (see ``BankRequestSignature``): the client names itself
// and signs method, path and query, the body's SHA-256 and the time with the 32-byte secret
// `bank init` made for it. A client sees, cancels and refunds only the keys it created.

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

/// The HMAC-SHA256 a bank client puts on every request, over
/// `roadside-bank-v1 \n METHOD \n PATH?QUERY \n hex(SHA-256(body)) \n TIMESTAMP \n CLIENT`.
/// The bank accepts it within ±5 minutes of its own clock. A replay inside that window can
/// only repeat an idempotent call (every deduction, cancellation and refund is keyed), so
/// no nonce is kept.
public enum BankRequestSignature {
  public static let clientHeader = "Roadside-Client"
  public static let timestampHeader = "Roadside-Timestamp"
  public static let signatureHeader = "Roadside-Signature"
  /// How far a request's time may be from the bank's.
  public static let windowSeconds: Int64 = 300

  static func message(
    method: String, target: String, body: some Sequence<UInt8>, timestamp: String, client: String
  ) -> Data {
    let digest = SHA256.hash(data: Array(body)).map { String(format: "%02x", $0) }.joined()
    return Data("roadside-bank-v1\n\(method)\n\(target)\n\(digest)\n\(timestamp)\n\(client)".utf8)
  }

  /// The base64 signature of a request.
  public static func sign(
    method: String, target: String, body: some Sequence<UInt8>, timestamp: String, client: String,
    secret: [UInt8]
  ) -> String {
    let mac = HMAC<SHA256>.authenticationCode(
      for: message(
        method: method, target: target, body: body, timestamp: timestamp, client: client),
      using: SymmetricKey(data: secret))
    return Data(mac).base64EncodedString()
  }

  static func isValid(
    _ signature: String, method: String, target: String, body: some Sequence<UInt8>,
    timestamp: String, client: String, secret: [UInt8]
  ) -> Bool {
    guard let mac = Data(base64Encoded: signature) else { return false }
    return HMAC<SHA256>.isValidAuthenticationCode(
      mac,
      authenticating: message(
        method: method, target: target, body: body, timestamp: timestamp, client: client),
      using: SymmetricKey(data: secret))
  }
}

/// The bank's request context: the client the request was authenticated as.
public struct BankRequestContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  public var client: String?

  public init(source: Source) {
    coreContext = .init(source: source)
    client = nil
  }

  /// The authenticated client (the middleware refuses a request without one).
  func caller() throws -> String {
    guard let client else {
      throw BankError(.unauthenticated, "the request is not authenticated")
    }
    return client
  }
}

/// Authenticates every request and turns every failure into the bank's JSON error body.
struct BankAuthenticationMiddleware: RouterMiddleware {
  typealias Context = BankRequestContext
  let bank: BankEndpoint
  let now: @Sendable () -> Timestamp

  func handle(
    _ request: Request, context: BankRequestContext,
    next: (Request, BankRequestContext) async throws -> Response
  ) async throws -> Response {
    do {
      var request = request
      var context = context
      let body: ByteBuffer
      do {
        body = try await request.collectBody(upTo: 1 << 20)
      } catch {
        throw BankError(.invalid, "the request body exceeds 1 MiB")
      }
      context.client = try await authenticate(request, body: body)
      return try await next(request, context)
    } catch let error as BankError {
      throw error
    } catch let error as HTTPError {
      switch error.status {
      case .notFound:
        throw BankError(.notFound, "no route \(request.method) \(request.uri.path)")
      case .methodNotAllowed:
        throw BankError(.invalid, "\(request.method) is not allowed on \(request.uri.path)")
      default:
        throw BankError(.invalid, error.body ?? "\(error.status)")
      }
    } catch {
      throw BankError(.internal, "the bank failed: \(error)")
    }
  }

  func authenticate(_ request: Request, body: ByteBuffer) async throws -> String {
    let headers = request.headers
    func header(_ name: String) -> String? {
      headers.first { $0.name.canonicalName == name.lowercased() }?.value
    }
    guard let client = header(BankRequestSignature.clientHeader),
      let timestamp = header(BankRequestSignature.timestampHeader),
      let signature = header(BankRequestSignature.signatureHeader)
    else {
      throw BankError(
        .unauthenticated,
        "the request is not signed; a bank client sends Roadside-Client, Roadside-Timestamp and Roadside-Signature"
      )
    }
    guard let secret = try await bank.clientSecret(client) else {
      throw BankError(.unauthenticated, "the bank has no client \(client)")
    }
    guard let time = Timestamp(iso: timestamp),
      abs(time.secondsSinceEpoch - now().secondsSinceEpoch) <= BankRequestSignature.windowSeconds
    else {
      throw BankError(
        .unauthenticated,
        "the request's time \(timestamp) is more than 5 minutes from the bank's; check the clocks")
    }
    guard
      BankRequestSignature.isValid(
        signature, method: request.method.rawValue, target: request.uri.description,
        body: body.readableBytesView, timestamp: timestamp, client: client, secret: secret)
    else {
      throw BankError(.unauthenticated, "the request's signature does not verify")
    }
    return client
  }
}

extension BankError: HTTPResponseError {
  public var status: HTTPResponse.Status {
    switch kind {
    case .unavailable: .serviceUnavailable
    case .timeout: .gatewayTimeout
    case .keyReused: .conflict
    case .notFound: .notFound
    case .invalid: .badRequest
    case .unauthenticated: .unauthorized
    case .internal: .internalServerError
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

/// The bank's HTTP application, shared by `roadside bank serve` and the tests. `now` is
/// the bank's clock, against which request times are checked. With `tls` it speaks HTTPS
/// only.
public func buildBankApplication(
  bank: BankEndpoint, configuration: ApplicationConfiguration, logLevel: Logger.Level = .warning,
  now: @escaping @Sendable () -> Timestamp, tls: TLSConfiguration? = nil,
  onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
  let router = Router(context: BankRequestContext.self)
  router.add(middleware: BankAuthenticationMiddleware(bank: bank, now: now))
  let v1 = router.group("v1")
  v1.post("deductions") { request, context in
    json(
      try await bank.deduct(
        try await decode(DeductionRequest.self, from: request), client: try context.caller()))
  }
  v1.get("deductions/:key") { _, context in
    let key = try context.parameters.require("key")
    guard let result = try await bank.deduction(key, client: try context.caller()) else {
      throw BankError(.notFound, "the bank has no deduction with key \(key)")
    }
    return json(result)
  }
  v1.post("deductions/:key/cancel") { request, context in
    let body = try await decode(AtBody.self, from: request)
    return json(
      try await bank.cancel(
        try context.parameters.require("key"), client: try context.caller(), at: body.at))
  }
  v1.post("deductions/:key/refund") { request, context in
    let body = try await decode(AtBody.self, from: request)
    return json(
      try await bank.refund(
        try context.parameters.require("key"), client: try context.caller(), at: body.at))
  }
  v1.get("statement") { request, context in
    guard let text = request.uri.queryParameters["date"], let date = LocalDate(iso: text) else {
      throw BankError(.invalid, "the date query parameter (YYYY-MM-DD) is required")
    }
    return json(try await bank.statement(on: date, client: try context.caller()))
  }
  var logger = Logger(label: "roadside.bank")
  logger.logLevel = logLevel
  let http1 = HTTPServerBuilder.http1(
    configuration: .init(
      additionalChannelHandlers: [RequestHeadDeadline(seconds: 10)], idleTimeout: .seconds(30)))
  return Application(
    router: router,
    server: try tls.map { try .tls(http1, tlsConfiguration: $0) } ?? http1,
    configuration: configuration,
    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
    logger: logger)
}

/// Serves the bank until SIGINT or SIGTERM.
public func serveBank(
  bank: BankEndpoint, host: String, port: Int, now: @escaping @Sendable () -> Timestamp,
  tls: TLSConfiguration? = nil, onRunning: @escaping @Sendable (Int) async -> Void
) async throws {
  let app = try buildBankApplication(
    bank: bank,
    configuration: ApplicationConfiguration(
      address: .hostname(host, port: port), serverName: "roadside-bank"),
    now: now, tls: tls, onServerRunning: onRunning)
  try await app.runService()
}

/// The bank over HTTP. A connection failure or a timeout is `BankError.unavailable` or
/// `.timeout`: the outcome is unknown and the caller retries with the same key.
///
/// Every request is signed as `name` with `secret` at the time `clock` gives.
public struct HTTPBankClient: BankClient {
  public let baseURL: String
  let client: HTTPClient
  let timeout: TimeAmount
  let name: String
  let secret: [UInt8]
  let clock: any Clock

  public init(
    baseURL: String, name: String = "central", secret: [UInt8], clock: any Clock,
    client: HTTPClient = .shared, timeoutSeconds: Int64 = 10
  ) {
    self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    self.client = client
    self.timeout = .seconds(timeoutSeconds)
    self.name = name
    self.secret = secret
    self.clock = clock
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
    let bytes = try body.map { try JSONEncoder().encode($0) } ?? Data()
    if body != nil {
      request.headers.add(name: "Content-Type", value: "application/json")
      request.body = .bytes(ByteBuffer(data: bytes))
    }
    let timestamp = clock.now().description
    request.headers.add(name: BankRequestSignature.clientHeader, value: name)
    request.headers.add(name: BankRequestSignature.timestampHeader, value: timestamp)
    request.headers.add(
      name: BankRequestSignature.signatureHeader,
      value: BankRequestSignature.sign(
        method: method.rawValue, target: "/v1" + path, body: bytes, timestamp: timestamp,
        client: name, secret: secret))
    let response: HTTPClientResponse
    var answer: ByteBuffer
    do {
      response = try await client.execute(request, timeout: timeout)
      answer = try await response.body.collect(upTo: 64 << 20)
    } catch let error as HTTPClientError where error == .deadlineExceeded {
      throw BankError(.timeout, "\(baseURL) did not answer within the timeout")
    } catch {
      throw BankError(.unavailable, "\(baseURL) is unreachable: \(error)")
    }
    let data = answer.readData(length: answer.readableBytes) ?? Data()
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
