public import AsyncHTTPClient
import Foundation
public import NIOSSL
import Synchronization

/// A TLS file that cannot be used; the description says which file and what to do.
public struct TLSFileError: Error, Sendable, Equatable, CustomStringConvertible {
  public let path: String
  public let description: String

  init(_ path: String, _ description: String) {
    self.path = path
    self.description = description
  }
}

/// TLS for Roadside's two servers and their clients, from PEM files (swift-nio-ssl, which
/// AsyncHTTPClient and Hummingbird already use). TLS 1.2 is the least either side accepts.
public enum TLSFiles {
  /// The server side: a certificate chain (leaf first) and its private key, both PEM.
  public static func serverConfiguration(certificate: String, key: String) throws
    -> TLSConfiguration
  {
    let chain = try certificates(at: certificate, role: "certificate")
    let privateKey: NIOSSLPrivateKey
    do {
      try readable(key, role: "private key")
      privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
    } catch let error as TLSFileError {
      throw error
    } catch {
      throw TLSFileError(
        key, "\(key) is not a PEM private key (\(error)); give the key of the certificate")
    }
    var configuration = TLSConfiguration.makeServerConfiguration(
      certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
    configuration.minimumTLSVersion = .tlsv12
    return configuration
  }

  /// The client side: the system's trust roots, or only the certificates in `ca` (PEM).
  public static func clientConfiguration(trusting ca: String?) throws -> TLSConfiguration {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.minimumTLSVersion = .tlsv12
    if let ca {
      configuration.trustRoots = .certificates(try certificates(at: ca, role: "CA certificate"))
    }
    return configuration
  }

  private static let clients = Mutex<[String: HTTPClient]>([:])

  /// The HTTP client that trusts `ca` (nil: `HTTPClient.shared`, the system's roots). One
  /// client per file for the life of the process, as `HTTPClient.shared` is: commands and
  /// servers never shut it down.
  public static func client(trusting ca: String?) throws -> HTTPClient {
    guard let ca else { return .shared }
    let configuration = try clientConfiguration(trusting: ca)
    return clients.withLock { clients in
      if let client = clients[ca] { return client }
      let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(tlsConfiguration: configuration))
      clients[ca] = client
      return client
    }
  }

  static func readable(_ path: String, role: String) throws {
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw TLSFileError(path, "cannot read the TLS \(role) \(path); give the path of a PEM file")
    }
  }

  static func certificates(at path: String, role: String) throws -> [NIOSSLCertificate] {
    try readable(path, role: role)
    let chain: [NIOSSLCertificate]
    do {
      chain = try NIOSSLCertificate.fromPEMFile(path)
    } catch {
      throw TLSFileError(path, "\(path) holds no PEM certificate (\(error)); give a PEM file")
    }
    guard !chain.isEmpty else {
      throw TLSFileError(path, "\(path) holds no PEM certificate; give a PEM file")
    }
    return chain
  }
}
