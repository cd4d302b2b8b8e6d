import Foundation
public import Hummingbird
public import Logging
public import RoadsideProtocol

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

/// Decodes a JSON request body, at most ``ProtocolV1/maximumBodyBytes``.
func decodeBody<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
  var request = request
  let buffer: ByteBuffer
  do {
    buffer = try await request.collectBody(upTo: ProtocolV1.maximumBodyBytes)
  } catch {
    throw APIError(
      status: 413, code: "body_too_large",
      message: "the request body exceeds \(ProtocolV1.maximumBodyBytes) bytes")
  }
  do {
    return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
  } catch {
    throw APIError.badRequest("malformed_body", "the body is not a valid \(T.self): \(error)")
  }
}

/// The central store's HTTP application, shared by `roadside central serve` and the tests.
public func buildApplication(
  endpoint: CentralEndpoint, configuration: ApplicationConfiguration,
  logLevel: Logger.Level = .warning,
  onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
  let router = Router()
  router.add(middleware: ProtocolErrorMiddleware())
  let v1 = router.group("v1")
  v1.get("health") { _, _ in
    jsonResponse(try await endpoint.health())
  }
  v1.post("terminals/register") { request, _ in
    let body = try await decodeBody(RegisterRequest.self, from: request)
    return jsonResponse(try await endpoint.register(body))
  }
  v1.post("push") { request, _ in
    let batch = try await decodeBody(PushBatch.self, from: request)
    return jsonResponse(try await endpoint.push(batch))
  }
  v1.get("conflicts") { request, _ in
    let terminal = request.uri.queryParameters["terminal"].map(String.init)
    return jsonResponse(try await endpoint.conflicts(terminal: terminal))
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
    return jsonResponse(try await endpoint.changes(terminal: terminal, after: after, limit: limit))
  }
  var logger = Logger(label: "roadside.central")
  logger.logLevel = logLevel
  return Application(
    router: router, configuration: configuration,
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
  onRunning: @escaping @Sendable (Int) async -> Void
) async throws {
  let app = buildApplication(
    endpoint: endpoint,
    configuration: ApplicationConfiguration(
      address: .hostname(host, port: port), serverName: "roadside"),
    // Stopping by cancellation makes the server log the cancellation as an error.
    logLevel: handleSignals ? .warning : .critical,
    onServerRunning: onRunning)
  if handleSignals {
    try await app.runService()  // SIGTERM and SIGINT shut down gracefully
  } else {
    try await app.runService(gracefulShutdownSignals: [])
  }
}
