public import AsyncHTTPClient
import Foundation
public import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import RoadsideProtocol

/// The terminal's HTTP client for the v1 protocol (AsyncHTTPClient, with timeouts).
public struct HTTPTransport: CentralTransport {
  public let baseURL: String
  public let client: HTTPClient
  public let timeout: TimeAmount

  /// `baseURL` such as `http://127.0.0.1:8080` (no trailing `/v1`).
  public init(baseURL: String, client: HTTPClient = .shared, timeoutSeconds: Int64 = 10) {
    var url = baseURL
    while url.hasSuffix("/") { url.removeLast() }
    self.baseURL = url
    self.client = client
    self.timeout = .seconds(timeoutSeconds)
  }

  public func health() async throws -> HealthResponse {
    try await send(method: .GET, path: "/health", body: Optional<String>.none)
  }

  public func register(_ request: RegisterRequest) async throws -> RegisterResponse {
    try await send(method: .POST, path: "/terminals/register", body: request)
  }

  public func changes(terminal: String, after: Int64, limit: Int) async throws -> ChangesResponse {
    var components = URLComponents()
    components.queryItems = [
      URLQueryItem(name: "terminal", value: terminal),
      URLQueryItem(name: "after", value: String(after)),
      URLQueryItem(name: "limit", value: String(limit)),
    ]
    return try await send(
      method: .GET, path: "/changes?\(components.percentEncodedQuery ?? "")",
      body: Optional<String>.none)
  }

  public func push(_ batch: PushBatch) async throws -> PushResponse {
    try await send(method: .POST, path: "/push", body: batch)
  }

  func send<Body: Encodable, Answer: Decodable>(
    method: HTTPMethod, path: String, body: Body?
  ) async throws -> Answer {
    var request = HTTPClientRequest(url: baseURL + ProtocolV1.prefix + path)
    request.method = method
    request.headers.add(name: "Accept", value: "application/json")
    if let body {
      request.headers.add(name: "Content-Type", value: "application/json")
      request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
    }
    let response: HTTPClientResponse
    var bytes: ByteBuffer
    do {
      response = try await client.execute(request, timeout: timeout)
      bytes = try await response.body.collect(upTo: 256 << 20)
    } catch {
      throw TransportError("\(baseURL): \(error)")
    }
    let data = bytes.readData(length: bytes.readableBytes) ?? Data()
    guard (200..<300).contains(Int(response.status.code)) else {
      if let failure = try? JSONDecoder().decode(ErrorResponse.self, from: data) {
        throw APIError(
          status: Int(response.status.code), code: failure.error.code,
          message: failure.error.message)
      }
      throw TransportError(
        "\(baseURL) answered HTTP \(response.status.code) without a protocol error body")
    }
    do {
      return try JSONDecoder().decode(Answer.self, from: data)
    } catch {
      throw TransportError(
        "\(baseURL) answered with a body that is not a v1 \(Answer.self): \(error)")
    }
  }
}
