import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
public import NIOSSL
public import RoadsideProtocol
import RoadsideServing

extension APIError: HTTPResponseError {
  public var status: HTTPResponse.Status { HTTPResponse.Status(code: httpStatus) }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    jsonResponse(ErrorResponse(code: code, message: message), status: status)
  }
}

func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
  let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
  return Response(
    status: status, headers: [.contentType: "application/json; charset=utf-8"],
    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// Turns every failure into the protocol's JSON error body: unknown routes and API
/// versions, oversized bodies, and anything unexpected.
struct ProtocolErrorMiddleware<Context: RequestContext>: RouterMiddleware {
  /// Every route and its one method, as docs/openapi.json lists them.
  static var routes: [String: String] {
    [
      "/v1/health": "GET", "/v1/terminals/register": "POST", "/v1/changes": "GET",
      "/v1/push": "POST", "/v1/conflicts": "GET",
    ]
  }

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    do {
      return try await next(request, context)
    } catch let error as APIError {
      throw error
    } catch let error as HTTPError {
      let path = request.uri.path
      switch error.status {
      case .notFound:
        if let allowed = ProtocolErrorMiddleware.routes[path] {
          // The route exists with another method: 405, as RFC 9110 §15.5.6 says.
          var response = try APIError(
            status: 405, code: "method_not_allowed",
            message: "\(request.method) is not allowed on \(path); use \(allowed)"
          ).response(from: request, context: context)
          response.headers[.allow] = allowed
          return response
        }
        if let version = path.split(separator: "/").first, version != "v1", version.hasPrefix("v") {
          throw APIError.notFound(
            "unsupported_api_version",
            "API version \(version) is not served here; this central speaks v1")
        }
        throw APIError.notFound(
          "unknown_route", "no route \(request.method) \(path); see docs/openapi.json")
      case .contentTooLarge:
        throw APIError(
          status: 413, code: "body_too_large",
          message: "the request body exceeds \(ProtocolV1.maximumBodyBytes) bytes")
      case .methodNotAllowed:
        throw APIError(
          status: 405, code: "method_not_allowed",
          message: "\(request.method) is not allowed on \(path)")
      default:
        throw APIError(
          status: Int(error.status.code), code: "http_error",
          message: error.body ?? "\(error.status)")
      }
    }
  }
}

/// Collects a request body, at most ``ProtocolV1/maximumBodyBytes``.
func bodyBytes(of request: Request) async throws -> Data {
  var request = request
  do {
    let buffer = try await request.collectBody(upTo: ProtocolV1.maximumBodyBytes)
    return Data(buffer.readableBytesView)
  } catch {
    throw APIError(
      status: 413, code: "body_too_large",
      message: "the request body exceeds \(ProtocolV1.maximumBodyBytes) bytes")
  }
}

/// Refuses a body with a field its schema does not define (`additionalProperties: false`
/// in docs/openapi.json): a misspelt field is an error, not silently ignored. `nested`
/// names list fields whose items are checked the same way.
func rejectUnknownFields(
  _ data: Data, _ type: String, allowed: Set<String>, nested: [String: Set<String>] = [:]
) throws {
  // A body that is not a JSON object is left to the decoder, which says what is wrong.
  guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
    return
  }
  if let key = object.keys.sorted().first(where: { !allowed.contains($0) }) {
    throw APIError.badRequest(
      "unknown_field", "the body has a field \"\(key)\" that a \(type) does not define")
  }
  for (field, fields) in nested {
    for item in object[field] as? [[String: Any]] ?? [] {
      if let key = item.keys.sorted().first(where: { !fields.contains($0) }) {
        throw APIError.badRequest(
          "unknown_field", "an item of \(field) has a field \"\(key)\" it does not define")
      }
    }
  }
}

/// Decodes a JSON body.
func decodeBody<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
  do {
    return try JSONDecoder().decode(T.self, from: data)
  } catch {
    throw APIError.badRequest("malformed_body", "the body is not a valid \(T.self): \(error)")
  }
}

/// The request as central authenticates it: method, target as sent, body, credentials.
func signedRequest(_ request: Request, body: Data) -> SignedRequest {
  let headers = request.headers
  let credentials = RequestCredentials { name in
    headers.first { $0.name.canonicalName == name.lowercased() }?.value
  }
  return SignedRequest(
    method: request.method.rawValue, target: request.uri.description, body: body,
    credentials: credentials)
}

/// The central store's HTTP application, shared by `roadside central serve` and the tests.
///
/// A connection that sends nothing for `idleTimeoutSeconds` is closed, so half-open
/// connections do not pile up, and one whose request head is not complete within
/// `headerTimeoutSeconds` of opening (or of the previous answer) is closed, so slow senders
/// do not either (docs/security.md, "Robustness"). With `tls` the server speaks HTTPS only.
public func buildApplication(
  endpoint: CentralEndpoint, configuration: ApplicationConfiguration,
  logLevel: Logger.Level = .warning, idleTimeoutSeconds: Int64 = 30,
  headerTimeoutSeconds: Int64 = 10, tls: TLSConfiguration? = nil,
  onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
  let router = Router()
  router.add(middleware: ProtocolErrorMiddleware())
  let v1 = router.group("v1")
  v1.get("health") { _, _ in
    jsonResponse(try await endpoint.health())
  }
  v1.post("terminals/register") { request, _ in
    let body = try await bodyBytes(of: request)
    try rejectUnknownFields(
      body, "RegisterRequest", allowed: ["terminal", "publicKey", "enrolmentCode"])
    let register = try decodeBody(RegisterRequest.self, from: body)
    return jsonResponse(
      try await endpoint.register(register, signed: signedRequest(request, body: body)))
  }
  v1.post("push") { request, _ in
    let body = try await bodyBytes(of: request)
    try rejectUnknownFields(
      body, "PushBatch", allowed: ["terminal", "batchID", "sentAt", "records", "signature"],
      nested: ["records": ["recordID", "kind", "terminalSeq", "createdAt", "payload"]])
    let batch = try decodeBody(PushBatch.self, from: body)
    return jsonResponse(try await endpoint.push(batch, signed: signedRequest(request, body: body)))
  }
  v1.get("conflicts") { request, _ in
    let terminal = request.uri.queryParameters["terminal"].map(String.init)
    return jsonResponse(
      try await endpoint.conflicts(
        terminal: terminal, signed: signedRequest(request, body: Data())))
  }
  v1.get("changes") { request, _ in
    let query = request.uri.queryParameters
    guard let terminal = query["terminal"].map(String.init), !terminal.isEmpty else {
      throw APIError.badRequest("missing_parameter", "the terminal query parameter is required")
    }
    guard let after = Int64(query["after"].map(String.init) ?? "0") else {
      throw APIError.badRequest("bad_cursor", "after must be an integer sequence number")
    }
    guard let limit = Int(query["limit"].map(String.init) ?? "1000") else {
      throw APIError.badRequest("bad_limit", "limit must be an integer")
    }
    return jsonResponse(
      try await endpoint.changes(
        terminal: terminal, after: after, limit: limit,
        signed: signedRequest(request, body: Data())))
  }
  var logger = Logger(label: "roadside.central")
  logger.logLevel = logLevel
  let http1 = HTTPServerBuilder.http1(
    configuration: .init(
      additionalChannelHandlers: [RequestHeadDeadline(seconds: headerTimeoutSeconds)],
      idleTimeout: .seconds(idleTimeoutSeconds)))
  return Application(
    router: router,
    server: try tls.map { try .tls(http1, tlsConfiguration: $0) } ?? http1,
    configuration: configuration,
    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
    logger: logger)
}

/// Serves the endpoint on `host:port` until SIGINT or SIGTERM, then shuts down gracefully
/// (requests in flight finish). `onRunning` receives the bound port (useful with port 0).
///
/// With `handleSignals: false` the server ignores signals and stops when its task is
/// cancelled (for benchmarks and tests that run it in-process).
public func serve(
  endpoint: CentralEndpoint, host: String, port: Int, handleSignals: Bool = true,
  tls: TLSConfiguration? = nil, onRunning: @escaping @Sendable (Int) async -> Void
) async throws {
  let app = try buildApplication(
    endpoint: endpoint,
    configuration: ApplicationConfiguration(
      address: .hostname(host, port: port), serverName: "roadside"),
    // Stopping by cancellation makes the server log the cancellation as an error.
    logLevel: handleSignals ? .warning : .critical, tls: tls,
    onServerRunning: onRunning)
  if handleSignals {
    try await app.runService()  // SIGTERM and SIGINT shut down gracefully
  } else {
    try await app.runService(gracefulShutdownSignals: [])
  }
}
