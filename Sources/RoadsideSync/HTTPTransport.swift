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
    try await send(method: .GET, target: ProtocolV1.prefix + "/health", body: nil, signer: nil)
  }

  public func register(_ request: RegisterRequest, signer: RequestSigner) async throws
    -> RegisterResponse
  {
    try await send(
      method: .POST, target: ProtocolV1.prefix + "/terminals/register",
      body: try JSONEncoder().encode(request), signer: signer)
  }

  public func changes(terminal: String, after: Int64, limit: Int, signer: RequestSigner)
    async throws -> ChangesResponse
  {
    try await send(
      method: .GET,
      target: ProtocolV1.changesTarget(terminal: terminal, after: after, limit: limit),
      body: nil, signer: signer)
  }

  public func push(_ batch: PushBatch, signer: RequestSigner) async throws -> PushResponse {
    try await send(
      method: .POST, target: ProtocolV1.prefix + "/push", body: try JSONEncoder().encode(batch),
      signer: signer)
  }

  /// Sends `body` to `target` (path and query, as signed), signed by `signer` when given.
  func send<Answer: Decodable>(
    method: HTTPMethod, target: String, body: Data?, signer: RequestSigner?
  ) async throws -> Answer {
    var request = HTTPClientRequest(url: baseURL + target)
    request.method = method
    request.headers.add(name: "Accept", value: "application/json")
    if let body {
      request.headers.add(name: "Content-Type", value: "application/json")
      request.body = .bytes(ByteBuffer(data: body))
    }
    if let credentials = try signer?.sign(
      method: method.rawValue, target: target, body: body ?? Data()
    )
    .credentials {
      for (name, value) in credentials.headers { request.headers.add(name: name, value: value) }
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
    } catch let unknown as UnknownProtocolValue {
      throw unknown
    } catch {
      throw TransportError(
        "\(baseURL) answered with a body that is not a v1 \(Answer.self): \(error)")
    }
  }
}
