import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import RoadsideBank
import RoadsideBankHTTP
import RoadsideBankProtocol
import RoadsideCentral
import RoadsideCentralServer
import RoadsideDomain
import RoadsideServing
import RoadsideSpawn
import RoadsideSync
import RoadsideTerminal
import Testing

/// Central and the bank over TLS on loopback, with a certificate the test makes with the
/// system's openssl (a CA the clients are told to trust, and a server certificate it signed
/// for 127.0.0.1).
@Suite struct TLSTests {
  struct Certificates {
    let ca: String
    let certificate: String
    let key: String
    let foreignCA: String
  }

  func openssl(_ arguments: [String], in dir: URL) throws {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    process.currentDirectoryURL = dir
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "openssl \(arguments.joined(separator: " "))")
  }

  /// A CA, a server certificate for 127.0.0.1 it signed, and an unrelated CA.
  func makeCertificates() throws -> Certificates {
    let dir = scratch("tls")
    for name in ["ca", "other"] {
      try openssl(
        [
          "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2", "-subj",
          "/CN=Roadside test \(name)",
        ], in: dir)
    }
    try openssl(
      [
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
        "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
      ], in: dir)
    try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
      to: dir.appendingPathComponent("san.ext"), atomically: true, encoding: .utf8)
    try openssl(
      [
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext",
      ], in: dir)
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    return Certificates(
      ca: path("ca.pem"), certificate: path("server.pem"), key: path("server.key"),
      foreignCA: path("other.pem"))
  }

  @Test func aTerminalSyncsWithCentralOverTLSAndTrustsOnlyItsCA() async throws {
    let files = try makeCertificates()
    let world = try World()
    let app = try buildApplication(
      endpoint: world.endpoint,
      configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
      tls: try TLSFiles.serverConfiguration(certificate: files.certificate, key: files.key))
    try await app.test(.live) { client in
      let url = "https://127.0.0.1:\(try #require(client.port))"
      let https = HTTPTransport(
        baseURL: url, client: try TLSFiles.client(trusting: files.ca),
        timeoutSeconds: liveDeadlineSeconds)
      // Enrolment, the whole pull, a lookup and its push, all over TLS.
      let terminal = try await world.terminal("T-BJ-0001", transport: https)
      _ = try terminal.lookup(driver)
      let report = try await terminal.push(transport: https)
      #expect(report.accepted == 5 && report.rejected == 0)
      _ = try await terminal.pull(transport: https)
      #expect(try terminal.status().cursor == world.central().latestSequence())

      // A client that trusts the system's roots, or another CA, does not talk to it.
      for untrusting in [
        HTTPTransport(baseURL: url, timeoutSeconds: 3),
        HTTPTransport(
          baseURL: url, client: try TLSFiles.client(trusting: files.foreignCA), timeoutSeconds: 3),
      ] {
        await #expect(throws: (any Error).self) { try await untrusting.health() }
      }
      // Plain HTTP on the TLS port gets no answer.
      let plain = HTTPTransport(
        baseURL: "http://127.0.0.1:\(try #require(client.port))", timeoutSeconds: 3)
      await #expect(throws: (any Error).self) { try await plain.health() }
    }
  }

  @Test func centralReachesTheBankOverTLS() async throws {
    let files = try makeCertificates()
    let w = try PenaltyWorld()
    let secret = [UInt8](repeating: 7, count: 32)
    try BankStore.open(path: w.bankPath).addClient("central", secret: secret, at: start)
    let clock = w.world.clock
    let app = try buildBankApplication(
      bank: w.bank,
      configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
      now: { clock.now() },
      tls: try TLSFiles.serverConfiguration(certificate: files.certificate, key: files.key))
    try await app.test(.live) { client in
      let url = "https://127.0.0.1:\(try #require(client.port))"
      let bank = HTTPBankClient(
        baseURL: url, secret: secret, clock: clock,
        client: try TLSFiles.client(trusting: files.ca), timeoutSeconds: liveDeadlineSeconds)
      _ = try await bank.statement(on: clock.now().chinaDate)
      // The connection pool retries a failed handshake until the deadline: keep it short.
      let untrusting = HTTPBankClient(
        baseURL: url, secret: secret, clock: clock, timeoutSeconds: 3)
      let refused = await #expect(throws: BankError.self) {
        _ = try await untrusting.statement(on: clock.now().chinaDate)
      }
      #expect(refused?.kind == .unavailable || refused?.kind == .timeout)
    }
  }

  @Test func unreadableTLSFilesAreNamed() throws {
    let files = try makeCertificates()
    #expect(
      throws: TLSFileError.self,
      "a missing file"
    ) { try TLSFiles.serverConfiguration(certificate: "/nonexistent.pem", key: files.key) }
    let error = #expect(throws: TLSFileError.self) {
      try TLSFiles.serverConfiguration(certificate: files.certificate, key: files.certificate)
    }
    #expect(error?.path == files.certificate)
    #expect(
      error?.description.hasPrefix("\(files.certificate) is not a PEM private key") == true)
  }
}
